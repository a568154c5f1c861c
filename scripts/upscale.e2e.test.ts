// Every case of ../shared/fixtures/upscale-tiny/cases.json with every model file listed for it, run
// through the upscale CLI: exact size, 8-bit values within ±1 on at least 99 % of values (README §7).
// The per-tile outputs and the raw (pre-clamp) outputs are checked against the engine directly.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../native/testing/fixtures.js';
import { SafetensorsFile } from '../native/io/safetensors.js';
import { decodeImage } from '../native/pipelines/resize.js';
import { loadUpscaler, splitGrid } from '../native/upscale/index.js';
import { rasterToBgr, upscalePatch } from '../native/upscale/tiling.js';
import { readPngTextChunks } from '../server/infotext/index.js';
import { runUpscaleCli } from './upscale.js';

interface UpscaleCase {
  name: string;
  kind: 'upscale_with_model' | 'Upscaler.upscale';
  model_files: string[];
  input: string;
  tile: number;
  overlap: number;
  requested_scale: number | null;
  output: string;
  output_size: [number, number];
  raw?: string;
  tiles?: string;
  grid?: { xs: number[]; ys: number[] };
}

const dir = (name: string) => fixturePath('upscale-tiny', name);
const cases = (JSON.parse(readFileSync(dir('cases.json'), 'utf8')) as { cases: UpscaleCase[] }).cases;
const outDir = mkdtempSync(join(tmpdir(), 'easel-upscale-e2e-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

async function rgbOf(path: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Values off by more than 1, as a fraction. */
function offFraction(got: Uint8Array, want: Uint8Array): { off: number; worst: number } {
  let off = 0, worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    worst = Math.max(worst, d);
    if (d > 1) off++;
  }
  return { off: off / want.length, worst };
}

describe('upscale CLI against A1111 (upscale-tiny cases.json)', () => {
  it('has the cases of the README', () => expect(cases.length).toBe(17));

  for (const c of cases) {
    for (const file of c.model_files) {
      it(`${c.name} with ${file}`, async () => {
        const out = join(outDir, `${c.name}-${file}.png`);
        const argv = ['--model', dir(file), '--input', dir(c.input), '--out', out, '--tile', String(c.tile), '--overlap', String(c.overlap)];
        if (c.requested_scale !== null) argv.push('--scale', String(c.requested_scale));
        const res = await runUpscaleCli(argv);
        expect(res).toEqual({ out, width: c.output_size[0], height: c.output_size[1] });
        const [got, want] = await Promise.all([rgbOf(out), rgbOf(dir(c.output))]);
        expect([got.width, got.height]).toEqual(c.output_size);
        const { off, worst } = offFraction(got.data, want.data);
        expect(off, `values off by more than 1 (worst ${worst})`).toBeLessThanOrEqual(0.01);
        const text = readPngTextChunks(readFileSync(out));
        expect(text.postprocessing).toMatch(/^Postprocess upscale by: [\d.]+, Postprocess upscaler: /);
      });
    }
  }
});

describe('raw model outputs and per-tile outputs (upscale-tiny outputs.safetensors, tiles.safetensors)', () => {
  for (const c of cases.filter((x) => x.raw)) {
    for (const file of c.model_files) {
      it(`${c.name} raw with ${file} within 1e-4`, async () => {
        const [, key] = c.raw!.split(':') as [string, string];
        const outputs = await SafetensorsFile.open(dir('outputs.safetensors'));
        const model = await loadUpscaler(dir(file));
        try {
          const img = await decodeImage(readFileSync(dir(c.input)));
          const want = await outputs.readFloat32(key);
          const got = await model.forward(rasterToBgr(img), img.width, img.height);
          expect(got.length).toBe(want.length);
          let worst = 0;
          for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
          expect(worst).toBeLessThan(1e-4);
        } finally {
          await model.dispose();
          await outputs.close();
        }
      });
    }
  }

  for (const c of cases.filter((x) => x.tiles)) {
    const file = c.model_files[0]!;
    it(`${c.name}: split_grid positions and every tile's uint8 output with ${file}`, async () => {
      const img = await decodeImage(readFileSync(dir(c.input)));
      const grid = splitGrid(img.width, img.height, c.tile, c.overlap);
      expect({ xs: grid.xs, ys: grid.ys }).toEqual({ xs: c.grid!.xs, ys: c.grid!.ys });
      const tiles = await SafetensorsFile.open(dir('tiles.safetensors'));
      const model = await loadUpscaler(dir(file));
      try {
        for (const [r, y] of grid.ys.entries()) {
          for (const [col, x] of grid.xs.entries()) {
            const tile = { width: c.tile, height: c.tile, channels: 3 as const, data: new Uint8Array(c.tile * c.tile * 3) };
            for (let ty = 0; ty < c.tile; ty++) tile.data.set(img.data.subarray(((y + ty) * img.width + x) * 3, ((y + ty) * img.width + x + c.tile) * 3), ty * c.tile * 3);
            const got = await upscalePatch(model, tile);
            const want = await tiles.readBytes(c.tiles!.split(':')[1]!.replace('<row>', String(r)).replace('<col>', String(col)));
            expect(got.data.length).toBe(want.length);
            expect(offFraction(got.data, want).off).toBeLessThanOrEqual(0.01);
          }
        }
      } finally {
        await model.dispose();
        await tiles.close();
      }
    });
  }
});

describe('upscale CLI as a process', () => {
  /** Runs `npm run -s upscale -- …` the way a user does; resolves with the exit code and output. */
  function runProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
    return new Promise((resolve) => {
      execFile(tsx, [join(process.cwd(), 'scripts', 'upscale.ts'), ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  }

  it('exits 0 and writes the image; exits 1 with one line naming the reason on an error', async () => {
    const out = join(outDir, 'process.png');
    const ok = await runProcess(['--upscaler', 'Lanczos', '--input', dir('input.png'), '--out', out, '--scale', '2']);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await rgbOf(out)).width).toBe(80);
    const r = await runProcess(['--model', join(outDir, 'missing.pth'), '--input', dir('input.png'), '--out', out]);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toContain('[upscaler_not_found]');
  }, 300_000);

  it('refuses damaged files and bad flags with a coded, one-line reason', async () => {
    const out = join(outDir, 'refused.png');
    const junk = join(outDir, 'junk.safetensors');
    writeFileSync(junk, readFileSync(dir('compact_x4.safetensors')).subarray(0, 400));
    for (const [args, reason] of [
      [['--model', junk, '--input', dir('input.png'), '--out', out], 'bad_upscaler_file'],
      [['--upscaler', 'Bicubic', '--input', dir('input.png'), '--out', out, '--scale', '2'], '--upscaler must be Lanczos or Nearest'],
      [['--model', dir('compact_x4.pth'), '--input', dir('input.png'), '--out', out, '--tile', '8', '--overlap', '8'], 'must be smaller than --tile'],
      [['--upscaler', 'Lanczos', '--input', dir('input.png'), '--out', out], 'needs --scale'],
    ] as const) {
      const err = await runUpscaleCli([...args]).then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      expect(err, reason).toBeDefined();
      expect(`${err!.message} ${err!.code ?? ''}`).toContain(reason);
      expect(err!.message).not.toContain('\n');
    }
  });
});
