// Every case of ../shared/fixtures/sd1-tiny/e2e.json run through the CLI from its user-facing
// parameters alone; the PNG must match A1111's within ±1 on at least 99 % of values (fixture README).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { parseInfotext, readPngTextChunks } from '../server/infotext/index.js';
import { sd1TinyPath } from '../native/testing/fixtures.js';
import { runCli } from './generate.js';
import type { A1111E2eCase } from './test/a1111-e2e-case.js';

interface E2eCase extends A1111E2eCase {
  clip_skip: number;
}

const cases = (JSON.parse(readFileSync(sd1TinyPath('e2e.json'), 'utf8')) as { cases: E2eCase[] }).cases;
const outDir = mkdtempSync(join(tmpdir(), 'easel-e2e-'));

async function rgbOf(path: string): Promise<Buffer> {
  return sharp(path).removeAlpha().raw().toBuffer();
}

describe('CLI end to end against A1111 (sd1-tiny e2e.json)', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThanOrEqual(9));

  for (const c of cases) {
    it(`${c.name}: ${c.sampler} / ${c.scheduler}, ${c.steps} steps`, async () => {
      const out = join(outDir, `${c.name}.png`);
      const argv = [
        '--model', sd1TinyPath(c.checkpoint), '--tokenizer', sd1TinyPath('tokenizer'),
        '--prompt', c.prompt, '--negative-prompt', c.negative_prompt, '--seed', String(c.seed),
        '--steps', String(c.steps), '--cfg', String(c.cfg_scale), '--sampler', c.sampler, '--scheduler', c.scheduler,
        '--width', String(c.width), '--height', String(c.height), '--rng', c.rng_source === 'CPU' ? 'cpu' : 'nv',
        '--clip-skip', String(c.clip_skip), '--out', out,
      ];
      expect(await runCli(argv)).toEqual([out]);
      const [got, want] = await Promise.all([rgbOf(out), rgbOf(sd1TinyPath(c.expected_png))]);
      expect(got.length).toBe(want.length);
      let off = 0;
      let worst = 0;
      for (let i = 0; i < want.length; i++) {
        const d = Math.abs(got[i]! - want[i]!);
        worst = Math.max(worst, d);
        if (d > 1) off++;
      }
      expect(off / want.length, `values off by more than 1 (worst ${worst})`).toBeLessThanOrEqual(0.01);
      const info = parseInfotext(readPngTextChunks(readFileSync(out)).parameters!);
      expect(info.seed).toBe(c.seed);
      expect(info.steps).toBe(c.steps);
      expect(info.prompt).toBe(c.prompt);
      expect(info.fields['Sampler']).toBe(c.sampler);
      if (c.rng_source === 'CPU') expect(info.fields['RNG']).toBe('CPU');
    }, 120_000);
  }
});
