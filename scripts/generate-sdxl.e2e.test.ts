// Every case of ../shared/fixtures/sdxl-tiny/e2e.json through the CLI from its user-facing
// parameters alone (the same CLI as SD1): the PNG must match A1111's within ±1 on at least 99 % of
// values, and the PNG's `parameters` text must be A1111's infotext (fixture README §8).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readPngTextChunks } from '../server/infotext/index.js';
import { sd1TinyPath, sdxlTinyPath } from '../native/testing/fixtures.js';
import { runCli } from './generate.js';
import type { A1111E2eCase } from './test/a1111-e2e-case.js';

interface E2eCase extends A1111E2eCase {
  infotext: string;
}

const cases = (JSON.parse(readFileSync(sdxlTinyPath('e2e.json'), 'utf8')) as { cases: E2eCase[] }).cases;
const outDir = mkdtempSync(join(tmpdir(), 'easel-sdxl-e2e-'));

async function rgbOf(path: string): Promise<Buffer> {
  return sharp(path).removeAlpha().raw().toBuffer();
}

describe('CLI end to end against A1111 (sdxl-tiny e2e.json)', () => {
  it('has the six cases', () => expect(cases.length).toBe(6));

  for (const c of cases) {
    it(`${c.name}: ${c.sampler} / ${c.scheduler}, ${c.steps} steps, ${c.width}×${c.height}`, async () => {
      const out = join(outDir, `${c.name}.png`);
      const argv = [
        '--model', sdxlTinyPath(c.checkpoint), '--tokenizer', sd1TinyPath('tokenizer'),
        '--prompt', c.prompt, '--negative-prompt', c.negative_prompt, '--seed', String(c.seed),
        '--steps', String(c.steps), '--cfg', String(c.cfg_scale), '--sampler', c.sampler, '--scheduler', c.scheduler,
        '--width', String(c.width), '--height', String(c.height), '--rng', c.rng_source === 'CPU' ? 'cpu' : 'nv',
        '--out', out,
      ];
      expect(await runCli(argv)).toEqual([out]);
      const [got, want] = await Promise.all([rgbOf(out), rgbOf(sdxlTinyPath(c.expected_png))]);
      expect(got.length).toBe(want.length);
      let off = 0;
      let worst = 0;
      for (let i = 0; i < want.length; i++) {
        const d = Math.abs(got[i]! - want[i]!);
        worst = Math.max(worst, d);
        if (d > 1) off++;
      }
      expect(off / want.length, `values off by more than 1 (worst ${worst})`).toBeLessThanOrEqual(0.01);
      // The CLI writes numbers as A1111's API does (Python floats: "CFG scale: 7.0"). `Version` names the program that wrote the file
      // (Easel, followed by the Civitai `Hashes` field A1111 adds when a model hash is known).
      // Everything before it is A1111's text to the byte.
      const infotext = readPngTextChunks(readFileSync(out)).parameters!;
      const [mine, version] = infotext.split(', Version: ');
      expect(mine).toBe(c.infotext.split(', Version: ')[0]);
      expect(version).toBe(`Easel v0.1.0, Hashes: {"model": "${c.infotext.match(/Model hash: ([0-9a-f]{10})/)![1]}"}`);
    }, 120_000);
  }
});
