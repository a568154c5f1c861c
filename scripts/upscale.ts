// `npm run -s upscale -- --model FILE --input PNG --out PNG [--scale X] [--tile N] [--overlap N]`:
// A1111's upscale without the server. Without --scale the model runs once at its own scale
// (upscale_with_model); with --scale it is A1111's Upscaler.upscale (passes, then LANCZOS to the size
// floored to a multiple of 8). `--upscaler Lanczos|Nearest` replaces --model. The output keeps the
// input's `parameters` text and adds the Extras fields, as A1111 does.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodeImage, encodePng } from '../native/pipelines/resize.js';
import { loadUpscaler, upscaleRaster, upscaleWithModel, DEFAULT_OVERLAP, DEFAULT_TILE, type UpscalerModel } from '../native/upscale/index.js';
import type { Device } from '../native/runtime/ort-backend.js';
import { readPngTextChunks, isPng } from '../server/infotext/index.js';
import { withUpscaleChunks } from '../server/infotext/postprocess-info.js';
import { parseFlags } from './cli.js';

const HELP = `Usage: npm run -s upscale -- (--model FILE | --upscaler Lanczos|Nearest) --input PNG --out PNG [options]

  --model FILE        upscaler file (.pth / .safetensors): ESRGAN, Real-ESRGAN, BSRGAN, ESRGAN+, SRVGGNetCompact
  --upscaler NAME     a model-free upscaler instead: Lanczos or Nearest (needs --scale)
  --input PNG         source image (PNG, JPEG or WebP)
  --out PNG           output path
  --scale X           target scale (A1111 "Scale by"); without it: the model's own scale, one pass
  --tile N            tile size in input pixels, 0 = untiled (default ${DEFAULT_TILE})
  --overlap N         tile overlap in input pixels (default ${DEFAULT_OVERLAP})
  --device cpu|cuda   execution provider (default cpu)
  --help`;

class CliError extends Error {}

function intFlag(name: string, v: string | undefined, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new CliError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

export interface UpscaleCliResult {
  out: string;
  width: number;
  height: number;
}

/** Runs the CLI on `argv` (without the node/script part); null after --help. Throws on any error. */
export async function runUpscaleCli(argv: string[]): Promise<UpscaleCliResult | null> {
  const v = parseFlags(
    {
      model: { type: 'string' },
      upscaler: { type: 'string' },
      input: { type: 'string' },
      out: { type: 'string' },
      scale: { type: 'string' },
      tile: { type: 'string' },
      overlap: { type: 'string' },
      device: { type: 'string' },
    },
    HELP,
    argv,
  );
  if (!v) return null;
  if (!v.input) throw new CliError('--input is required');
  if (!v.out) throw new CliError('--out is required');
  if ((v.model === undefined) === (v.upscaler === undefined)) throw new CliError('give exactly one of --model FILE or --upscaler Lanczos|Nearest');
  if (v.upscaler !== undefined && v.upscaler !== 'Lanczos' && v.upscaler !== 'Nearest') {
    throw new CliError(`--upscaler must be Lanczos or Nearest, got ${JSON.stringify(v.upscaler)}`);
  }
  let scale: number | undefined;
  if (v.scale !== undefined) {
    scale = Number(v.scale);
    if (!Number.isFinite(scale) || scale <= 0) throw new CliError(`--scale must be a positive number, got ${JSON.stringify(v.scale)}`);
  }
  if (v.upscaler !== undefined && scale === undefined) throw new CliError(`--upscaler ${v.upscaler} needs --scale`);
  const tile = intFlag('tile', v.tile, DEFAULT_TILE, 0);
  const overlap = intFlag('overlap', v.overlap, DEFAULT_OVERLAP, 0);
  if (tile > 0 && overlap >= tile) throw new CliError(`--overlap (${overlap}) must be smaller than --tile (${tile})`);
  const device = (v.device ?? 'cpu') as Device;
  if (device !== 'cpu' && device !== 'cuda') throw new CliError(`--device must be cpu or cuda, got ${JSON.stringify(v.device)}`);

  let bytes: Buffer;
  try {
    bytes = await readFile(v.input);
  } catch (err) {
    throw new CliError(`cannot read --input ${v.input}: ${(err as Error).message}`);
  }
  let image;
  try {
    image = await decodeImage(bytes);
  } catch (err) {
    throw new CliError(`--input ${v.input} is not a readable image: ${(err as Error).message.split('\n')[0]}`);
  }
  const sourceInfotext = isPng(bytes) ? readPngTextChunks(bytes).parameters : undefined;

  let model: UpscalerModel | undefined;
  try {
    let out;
    let name: string;
    if (v.model !== undefined) {
      model = await loadUpscaler(v.model, { device });
      name = basename(v.model, extname(v.model));
      out = scale === undefined ? await upscaleWithModel(model, image, tile, overlap) : await upscaleRaster(image, model, { scale }, { tile, overlap });
    } else {
      name = v.upscaler!;
      out = await upscaleRaster(image, v.upscaler as 'Lanczos' | 'Nearest', { scale: scale! });
    }
    const png = withUpscaleChunks(await encodePng(out), sourceInfotext, { upscaler: name, scale: scale ?? model!.scale });
    const tmp = `${v.out}.tmp-${process.pid}`;
    await writeFile(tmp, png);
    await rename(tmp, v.out);
    return { out: v.out, width: out.width, height: out.height };
  } finally {
    await model?.dispose();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runUpscaleCli(process.argv.slice(2)).then(
    (r) => {
      if (r) console.log(`${r.out}: ${r.width}×${r.height}`);
      process.exit(0);
    },
    (err: unknown) => {
      // One line: the reason (codes of the engine's errors included).
      const raw = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
      const code = typeof raw === 'string' && !raw.startsWith('ERR_') ? ` [${raw}]` : '';
      console.error(`upscale: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}${code}`);
      process.exit(1);
    },
  );
}
