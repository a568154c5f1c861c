// Every case of ../shared/fixtures/sd1-hires/e2e.json run through the CLI from its user-facing
// parameters (the fixture README's CLI contract): exact size, ±1 on ≥ 99 % of the 8-bit values
// (max ≤ 8) for the final and the first-pass image, and the PNG infotext equal to A1111's.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { parseInfotext, readPngTextChunks } from '../server/infotext/index.js';
import { hiresE2eCases, hiresPath, type HiresE2eCase } from '../native/pipelines/test/hires-fixture.js';
import { sd1TinyPath } from '../native/testing/fixtures.js';
import { runCli } from './generate.js';

const cases = hiresE2eCases();
const outDir = mkdtempSync(join(tmpdir(), 'easel-hires-e2e-'));

async function rgbOf(path: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

async function expectClose(got: string, want: string): Promise<void> {
  const [a, b] = await Promise.all([rgbOf(got), rgbOf(want)]);
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let off = 0, worst = 0;
  for (let i = 0; i < b.data.length; i++) {
    const d = Math.abs(a.data[i]! - b.data[i]!);
    worst = Math.max(worst, d);
    if (d > 1) off++;
  }
  expect(off / b.data.length, `values off by more than 1 (worst ${worst})`).toBeLessThanOrEqual(0.01);
  expect(worst).toBeLessThanOrEqual(8);
}

/** The contract's argv: the four numeric hires flags always, string flags only when the case sets them. */
function argvOf(c: HiresE2eCase, out: string): string[] {
  const argv = [
    '--model', hiresPath(c.checkpoint), '--prompt', c.prompt, '--negative-prompt', c.negative_prompt, '--seed', String(c.seed),
    '--steps', String(c.steps), '--cfg', String(c.cfg_scale), '--sampler', c.sampler_name, '--scheduler', c.scheduler,
    '--width', String(c.width), '--height', String(c.height), '--rng', c.rng_source === 'CPU' ? 'cpu' : 'nv',
    '--tokenizer', sd1TinyPath('tokenizer'), '--out', out, '--clip-skip', String(c.clip_skip),
    '--enable-hr', '--hr-scale', String(c.hr_scale), '--hr-second-pass-steps', String(c.hr_second_pass_steps),
    '--denoising-strength', String(c.denoising_strength), '--hr-resize-x', String(c.hr_resize_x), '--hr-resize-y', String(c.hr_resize_y),
    '--save-first-pass',
  ];
  if (c.hr_upscaler !== null) argv.push('--hr-upscaler', c.hr_upscaler);
  if (c.hr_sampler_name !== null) argv.push('--hr-sampler', c.hr_sampler_name);
  if (c.hr_scheduler !== null) argv.push('--hr-scheduler', c.hr_scheduler);
  if (c.hr_prompt !== '') argv.push('--hr-prompt', c.hr_prompt);
  if (c.hr_negative_prompt !== '') argv.push('--hr-negative-prompt', c.hr_negative_prompt);
  if (c.upscalers_dir !== null) argv.push('--upscalers-dir', hiresPath(c.upscalers_dir));
  return argv;
}

/**
 * Easel signs its own infotexts (`Version: Easel v…`) and appends Civitai's `Hashes:` JSON
 * (COMPAT.md §8); everything else must be A1111's text character for character.
 */
function asA1111(text: string): string {
  return text.replace(/, Hashes: \{.*\}$/, '').replace(/, Version: [^,]*$/, ', Version: v1.10.1');
}

describe('CLI hires fix end to end against A1111 (sd1-hires e2e.json)', () => {
  it('has the seven cases', () => expect(cases.map((c) => c.name)).toHaveLength(7));

  for (const c of cases) {
    it(`${c.name}: ${c.hr_upscaler ?? 'Latent'} → ${c.expected_size.join('x')}`, async () => {
      const out = join(outDir, `${c.name}.png`);
      const first = join(outDir, `${c.name}-first-pass.png`);
      expect(await runCli(argvOf(c, out))).toEqual([first, out]);
      await expectClose(out, hiresPath(c.expected_png));
      await expectClose(first, hiresPath(c.expected_firstpass_png));
      const text = readPngTextChunks(readFileSync(out)).parameters!;
      expect(asA1111(text)).toBe(c.infotext);
      const info = parseInfotext(text);
      expect([info.width, info.height]).toEqual([c.width, c.height]);
      expect(info.denoising_strength).toBe(c.denoising_strength);
    }, 180_000);
  }
});
