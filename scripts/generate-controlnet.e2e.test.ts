// Every case of ../shared/fixtures/sd1-controlnet/e2e.json through the CLI from its user-facing
// parameters alone (README "CLI contract": optional flags only where the unit sets the field): the
// PNG must match A1111 + sd-webui-controlnet within ±1 on ≥ 99 % of values and the infotext must be
// A1111's (Version normalised). One case also runs with the ControlNet renamed to diffusers names.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { SafetensorsFile, writeSafetensors, type TensorData } from '../native/io/safetensors.js';
import { fixturePath, sd1TinyPath } from '../native/testing/fixtures.js';
import { readPngTextChunks } from '../server/infotext/index.js';
import { runCli } from './generate.js';
import type { A1111E2eCase } from './test/a1111-e2e-case.js';

interface Unit {
  module: string;
  model: string;
  weight: number;
  image: string;
  resize_mode: string;
  processor_res?: number;
  threshold_a?: number;
  threshold_b?: number;
  guidance_start: number;
  guidance_end: number;
  control_mode: string;
  pixel_perfect: boolean;
}

interface Case extends A1111E2eCase {
  clip_skip: number;
  controlnet_units: Unit[];
  controlnet_models: Record<string, string>;
  infotext: string;
}

const cn = (name: string) => fixturePath('sd1-controlnet', name);
const cases = (JSON.parse(readFileSync(cn('e2e.json'), 'utf8')) as { cases: Case[] }).cases;
const outDir = mkdtempSync(join(tmpdir(), 'easel-cn-e2e-'));
const MODES: Record<string, string> = { Balanced: 'balanced', 'My prompt is more important': 'prompt', 'ControlNet is more important': 'controlnet' };

function argvOf(c: Case, out: string, modelFile: (unit: Unit) => string): string[] {
  const argv = [
    '--model', cn(c.checkpoint), '--tokenizer', sd1TinyPath('tokenizer'),
    '--prompt', c.prompt, '--negative-prompt', c.negative_prompt, '--seed', String(c.seed),
    '--steps', String(c.steps), '--cfg', String(c.cfg_scale), '--sampler', c.sampler, '--scheduler', c.scheduler,
    '--width', String(c.width), '--height', String(c.height), '--rng', c.rng_source === 'CPU' ? 'cpu' : 'nv',
    '--clip-skip', String(c.clip_skip), '--out', out,
  ];
  for (const u of c.controlnet_units) {
    argv.push('--controlnet', modelFile(u), '--control-image', cn(u.image), '--control-module', u.module);
    argv.push('--control-weight', String(u.weight), '--control-start', String(u.guidance_start), '--control-end', String(u.guidance_end));
    argv.push('--control-mode', MODES[u.control_mode]!, '--control-resize', u.resize_mode);
    if (u.processor_res !== undefined) argv.push('--control-processor-res', String(u.processor_res));
    if (u.threshold_a !== undefined) argv.push('--control-threshold-a', String(u.threshold_a));
    if (u.threshold_b !== undefined) argv.push('--control-threshold-b', String(u.threshold_b));
    if (u.pixel_perfect) argv.push('--control-pixel-perfect');
  }
  return argv;
}

async function compare(out: string, c: Case): Promise<void> {
  const rgb = (p: string) => sharp(p).removeAlpha().raw().toBuffer();
  const [got, want] = await Promise.all([rgb(out), rgb(cn(c.expected_png))]);
  expect(got.length).toBe(want.length);
  let off = 0, worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    worst = Math.max(worst, d);
    if (d > 1) off++;
  }
  expect(off / want.length, `values off by more than 1 (worst ${worst})`).toBeLessThanOrEqual(0.01);
}

/** Easel signs its infotexts (`Version: Easel …`) and appends Civitai's `Hashes:`; A1111 writes `Version: v1.10.1`. */
function normalise(info: string): string {
  return info.replace(/, Hashes: \{.*\}$/, '').replace(/, Version: [^,]*$/, ', Version: v1.10.1');
}

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('CLI end to end with ControlNet against A1111 + sd-webui-controlnet (sd1-controlnet e2e.json)', () => {
  it('has the six cases', () => expect(cases.length).toBe(6));

  for (const c of cases) {
    it(`${c.name}: ${c.controlnet_units.map((u) => `${u.module}/${u.control_mode}`).join(' + ')}`, async () => {
      const out = join(outDir, `${c.name}.png`);
      expect(await runCli(argvOf(c, out, (u) => cn(c.controlnet_models[u.model]!)))).toEqual([out]);
      await compare(out, c);
      expect(normalise(readPngTextChunks(readFileSync(out)).parameters!)).toBe(c.infotext);
    }, 120_000);
  }

  it('a diffusers-named single-file ControlNet gives the same image', async () => {
    const c = cases[0]!;
    const map = (JSON.parse(readFileSync(cn('controlnet_key_map.json'), 'utf8')) as { ldm_to_diffusers: Record<string, string> }).ldm_to_diffusers;
    const src = await SafetensorsFile.open(cn('control_tiny_canny.safetensors'));
    const tensors: Record<string, TensorData> = {};
    // The same F16 bytes under diffusers names.
    for (const k of src.keys()) tensors[map[k.replace(/^control_model\./, '')]!] = { dtype: src.info(k)!.dtype, shape: src.info(k)!.shape, data: await src.readBytes(k) };
    await src.close();
    const file = join(outDir, 'control_tiny_canny.safetensors');
    await writeSafetensors(file, tensors);
    const out = join(outDir, 'diffusers.png');
    expect(await runCli(argvOf(c, out, () => file))).toEqual([out]);
    await compare(out, c);
    // Same name; the hash is the renamed file's own.
    expect(normalise(readPngTextChunks(readFileSync(out)).parameters!)).toMatch(/ControlNet 0: "Module: canny, Model: control_tiny_canny \[[0-9a-f]{8}\], Weight: 1\.0/);
  }, 120_000);
});
