// ControlNet inside generate() against sd-webui-controlnet (sd1-controlnet fixture): per denoiser
// call the units that run (guidance start/end with the lagging step, cases.json per_call), the
// residuals added at each UNet level at the recorded call (`<case>.added_call<c>.NN`: weights, soft
// and cfg injection, unit sums) and the hints (`<case>.u<k>.hint`, exact); plus coded validation
// errors that name the unit and field.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff } from '../models/graph-test-utils.js';
import { generate } from '../pipelines/generate.js';
import { loadEngine, type Engine } from '../pipelines/engine.js';
import type { ControlNetUnitRequest, GenerateRequest } from '../pipelines/types.js';
import { resolveSampler } from '../sampling/names.js';
import { sd1TinyPath } from '../testing/fixtures.js';
import { cnFixturePath, readCnTensors, residualTolerance } from './test-fixture.js';
import { controlUnitsAt, loadControlUnits } from './units.js';

interface Case {
  name: string;
  prompt: string;
  negative_prompt: string;
  seed: number;
  steps: number;
  cfg_scale: number;
  sampler: string;
  scheduler: string;
  width: number;
  height: number;
  controlnet_units: (Omit<ControlNetUnitRequest, 'image'> & { image: string })[];
  controlnet_models: Record<string, string>;
}
interface CaseInfo {
  name: string;
  per_call: { call: number; controlnet_units_run: string[] }[];
}

const cases = (JSON.parse(readFileSync(cnFixturePath('e2e.json'), 'utf8')) as { cases: Case[] }).cases;
const infos = (JSON.parse(readFileSync(cnFixturePath('cases.json'), 'utf8')) as { cases: CaseInfo[] }).cases;
let engine: Engine;

beforeAll(async () => {
  engine = await loadEngine(sd1TinyPath('model.safetensors'), { tokenizerDir: sd1TinyPath('tokenizer') });
});
afterAll(async () => {
  await engine?.dispose();
});

function requestOf(c: Case): GenerateRequest {
  const s = resolveSampler(c.sampler)!;
  return {
    task: 'txt2img', prompt: c.prompt, negative_prompt: c.negative_prompt, width: c.width, height: c.height, steps: c.steps, cfg_scale: c.cfg_scale,
    sampler: s.sampler.id, scheduler: s.scheduler?.id ?? 'automatic', seed: c.seed, batch_size: 1, n_iter: 1, rng: 'cpu', clip_skip: 1,
    controlnet: c.controlnet_units.map((u) => ({ ...u, image: readFileSync(cnFixturePath(u.image)) })),
  };
}
const resources = (c: Case) => ({ resolveControlNet: (name: string) => cnFixturePath(c.controlnet_models[name]!) });

describe('ControlNet in the denoiser (sd1-controlnet)', () => {
  for (const c of cases) {
    it(`${c.name}: units per call, added residuals, hints`, async () => {
      const info = infos.find((i) => i.name === c.name)!;
      const fx = await readCnTensors(`${c.name}.`);
      const seen: { call: number; residuals: readonly Float32Array[] | null; units: readonly number[] }[] = [];
      await generate(engine, requestOf(c), { onControlNetResiduals: (call, residuals, units) => seen.push({ call, residuals: residuals?.map((r) => r.slice()) ?? null, units: [...units] }) }, resources(c));
      expect(seen.map((s) => s.units.map((u) => `u${u}`))).toEqual(info.per_call.map((p) => p.controlnet_units_run));
      const recorded = Object.keys(fx).map((k) => /^added_call(\d+)\.00$/.exec(k)?.[1]).filter((v): v is string => v !== undefined);
      expect(recorded.length).toBeGreaterThan(0);
      for (const call of recorded.map(Number)) {
        const got = seen[call]!.residuals!;
        expect(got).toHaveLength(13);
        got.forEach((r, i) => {
          const ref = fx[`added_call${call}.${String(i).padStart(2, '0')}`]!.data;
          expect(maxAbsDiff(r, ref), `call ${call} level ${i}`).toBeLessThanOrEqual(residualTolerance(ref));
        });
      }
      // The hints the units ran with: exactly the extension's.
      const units = await loadControlUnits(requestOf(c), { resolveControlNet: resources(c).resolveControlNet, cache: engine.controlnets!, family: 'sd1' });
      controlUnitsAt(units, c.width, c.height).forEach((u, k) => expect(maxAbsDiff(u.hint, fx[`u${k}.hint`]!.data), `u${k} hint`).toBe(0));
    }, 60_000);
  }

  it('cfg injection (ControlNet is more important) zeroes the uncond rows', async () => {
    const c = cases.find((x) => x.name === 'canny_controlnet_more_important_res128')!;
    const fx = await readCnTensors(`${c.name}.`);
    const per = fx['added_call0.00']!.data.length / 2;
    // rows: [cond; uncond]: the uncond half is all zeros, the cond half is not.
    expect(fx['added_call0.00']!.data.subarray(per).every((v) => v === 0)).toBe(true);
    let seen: readonly Float32Array[] | null = null;
    await generate(engine, { ...requestOf(c), steps: 1 }, { onControlNetResiduals: (call, r) => { if (call === 0) seen = r?.map((x) => x.slice()) ?? null; } }, resources(c));
    const r0 = (seen as unknown as Float32Array[])[0]!;
    expect(r0.subarray(per).every((v) => v === 0)).toBe(true);
    expect(r0.subarray(0, per).some((v) => v !== 0)).toBe(true);
  }, 60_000);
});

describe('ControlNet unit validation', () => {
  const base = () => requestOf(cases[0]!);
  const fails = async (edit: (r: GenerateRequest) => void, code: string, message: RegExp) => {
    const r = base();
    edit(r);
    const err = await generate(engine, r, {}, resources(cases[0]!)).then(() => undefined, (e: unknown) => e as { code: string; message: string });
    expect(err?.code).toBe(code);
    expect(err?.message).toMatch(message);
  };

  it('names the unit and field of a bad value', async () => {
    await fails((r) => delete r.controlnet![0]!.image, 'bad_controlnet_unit', /unit 0: image is required/);
    await fails((r) => (r.controlnet![0]!.weight = 3), 'bad_controlnet_unit', /unit 0: weight must be within 0\.\.2/);
    await fails((r) => ((r.controlnet![0]!.guidance_start = 0.9), (r.controlnet![0]!.guidance_end = 0.5)), 'bad_controlnet_unit', /unit 0: guidance_start must not be after guidance_end/);
    await fails((r) => (r.controlnet![0]!.model = 'None'), 'bad_controlnet_unit', /unit 0: model is required/);
    await fails((r) => r.controlnet!.push({ ...r.controlnet![0]!, module: 'no_such_module' }), 'unknown_controlnet_module', /unit 1: module: .*no_such_module/);
    await fails((r) => (r.controlnet = [0, 1, 2, 3].map(() => ({ ...r.controlnet![0]! }))), 'bad_controlnet_unit', /at most 3 ControlNet units, got 4/);
  });

  it('refuses a model made for another family', async () => {
    const r = base();
    const file = (await engine.controlnets!.get(cnFixturePath('control_tiny_canny.safetensors'))).file;
    const saved = file.config.family;
    (file.config as { family: string }).family = 'sdxl';
    try {
      const err = await generate(engine, r, {}, resources(cases[0]!)).then(() => undefined, (e: unknown) => e as { code: string; message: string });
      expect(err?.code).toBe('controlnet_family_mismatch');
      expect(err?.message).toMatch(/unit 0: model "control_tiny_canny" is a SDXL ControlNet, the checkpoint is SD 1\.x/);
    } finally {
      file.config.family = saved;
    }
  });
});
