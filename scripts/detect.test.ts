// Every case of ../shared/fixtures/yolo-tiny through the `detect` command (in process, the same
// code path as `npm run -s detect`), with the README §11 tolerances: detections (count, order,
// classes exact; boxes 5e-3 px; conf 2e-4) for the 2023-format, the 8.3.86-format and the
// safetensors file; ADetailer raw masks and every pred_preprocessing variant (bbox masks exact,
// seg masks ≤ 0.5 % of pixels off by more than 1). Two real `npm run -s detect` spawns check the
// script itself and its one-line errors.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../native/testing/fixtures.js';
import { runDetect } from './detect-command.js';

const dir = fixturePath('yolo-tiny');
const cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as Fixture;

interface Det {
  box_xyxy: number[];
  conf: number;
  cls: number;
}
interface Case {
  name: string;
  kind: 'det' | 'seg';
  model: string;
  image: string;
  conf: number;
  imgsz: number;
  letterbox: { input_hw: [number, number] };
  detections: Det[];
  near_decisions: { optional_detections: { box_xyxy: number[] }[]; kept_pairs_conf_gap_below_2e_4?: unknown };
  adetailer: { raw_masks: string[]; variants: Record<string, { masks: string[] }> };
}
interface Fixture {
  models: Record<'det' | 'seg', { pt_8087: string; pt_8386: string; safetensors: string; train_args_imgsz: number }>;
  variants: Record<string, Record<string, string | number>>;
  cases: Case[];
}
interface Out {
  image_wh: number[];
  input_hw: number[];
  names: Record<string, string>;
  detections: (Det & { name: string; mask: string })[];
  adetailer_masks: string[];
}

async function grey(path: string): Promise<{ data: Buffer; w: number; h: number }> {
  const { data, info } = await sharp(path).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { data, w: info.width, h: info.height };
}

async function compareMask(got: string, want: string, kind: 'det' | 'seg'): Promise<void> {
  const [a, b] = await Promise.all([grey(got), grey(want)]);
  expect([a.w, a.h]).toEqual([b.w, b.h]);
  let off = 0;
  for (let i = 0; i < a.data.length; i++) if (Math.abs(a.data[i] - b.data[i]) > (kind === 'det' ? 0 : 1)) off++;
  if (kind === 'det') expect(off, `${got} vs ${want}`).toBe(0);
  else expect(off / a.data.length, `${got} vs ${want}`).toBeLessThanOrEqual(0.005);
}

const near = (a: number[], b: number[], tol: number) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

/** Detections minus the harness-listed optional ones (a float32 engine may decide those either way). */
function firm<T extends Det>(list: T[], c: Case): T[] {
  return list.filter((d) => !c.near_decisions.optional_detections.some((o) => near(d.box_xyxy, o.box_xyxy, 5e-3)));
}

async function run(c: Case, model: string, variant?: string): Promise<{ out: Out; maskDir: string }> {
  const maskDir = mkdtempSync(join(tmpdir(), 'easel-detect-'));
  const json = join(maskDir, 'out.json');
  const args = ['--model', join(dir, model), '--input', join(dir, c.image), '--json', json, '--mask-dir', maskDir, '--conf', String(c.conf)];
  if (c.imgsz !== cases.models[c.kind].train_args_imgsz) args.push('--imgsz', String(c.imgsz));
  for (const [k, v] of Object.entries(variant ? cases.variants[variant] : {})) args.push(`--${k.replace(/_/g, '-')}`, String(v));
  expect(await runDetect(args)).toBe(0);
  return { out: JSON.parse(readFileSync(json, 'utf8')) as Out, maskDir };
}

describe('detect command on yolo-tiny', () => {
  it('has the seven cases', () => expect(cases.cases.map((c) => c.name)).toHaveLength(7));

  for (const c of cases.cases) {
    const files = cases.models[c.kind];
    for (const model of [files.pt_8087, files.pt_8386, files.safetensors]) {
      it(`${c.name} with ${model}: detections and raw masks`, async () => {
        const { out, maskDir } = await run(c, model);
        expect(out.input_hw).toEqual(c.letterbox.input_hw);
        expect(out.names).toEqual({ 0: c.kind === 'det' ? 'face' : 'person' });
        const got = firm(out.detections, c);
        const want = firm(c.detections, c);
        expect(got.map((d) => d.cls)).toEqual(want.map((d) => d.cls));
        got.forEach((d, j) => {
          expect(near(d.box_xyxy, want[j].box_xyxy, 5e-3), `box ${j}: ${d.box_xyxy} vs ${want[j].box_xyxy}`).toBe(true);
          expect(Math.abs(d.conf - want[j].conf)).toBeLessThanOrEqual(2e-4);
        });
        if (got.length === out.detections.length && want.length === c.detections.length) {
          for (const [j, d] of out.detections.entries()) await compareMask(join(maskDir, d.mask), join(dir, c.adetailer.raw_masks[j]), c.kind);
        }
      });
    }
    for (const variant of Object.keys(cases.variants)) {
      it(`${c.name}: ADetailer masks, variant ${variant}`, async () => {
        const { out, maskDir } = await run(c, files.pt_8087, variant);
        const want = c.adetailer.variants[variant].masks;
        expect(out.adetailer_masks).toHaveLength(want.length);
        for (const [j, m] of out.adetailer_masks.entries()) await compareMask(join(maskDir, m), join(dir, want[j]), c.kind);
      });
    }
  }
});

const exec = promisify(execFile);

describe('npm run -s detect', () => {
  it('writes the §12 JSON for a segmentation case', async () => {
    const c = cases.cases.find((x) => x.name === 'seg.img2')!;
    const out = join(mkdtempSync(join(tmpdir(), 'easel-detect-')), 'o.json');
    await exec('npm', ['run', '-s', 'detect', '--', '--model', join(dir, c.model), '--input', join(dir, c.image), '--json', out]);
    const json = JSON.parse(readFileSync(out, 'utf8')) as Out;
    expect(json.image_wh).toEqual([130, 85]);
    expect(json.detections.map((d) => d.cls)).toEqual(c.detections.map((d) => d.cls));
  });

  it('exits non-zero with one line naming the problem', async () => {
    const err = await exec('npm', ['run', '-s', 'detect', '--', '--model', join(dir, 'missing.pt'), '--input', join(dir, 'images/img0.png'), '--json', '/tmp/x.json']).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).not.toBe(0);
    const lines = (err as { stderr: string }).stderr.split('\n').filter((l) => l && !l.startsWith('npm warn'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^bad_model_file: .*missing\.pt/);
  });
});
