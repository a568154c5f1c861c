// The `detect` command (scripts/detect.ts): ADetailer's
// detection step without the server — Ultralytics' predict on a YOLOv8 .pt/.safetensors file, then
// ADetailer's mask pipeline with the --ad-* options — written as JSON (and mask PNGs with
// --mask-dir). The contract is ../shared/fixtures/yolo-tiny/README.md §12. Errors are thrown with a
// `code`; scripts/detect.ts prints them as one line.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Detector } from '../native/detect/detector.js';
import { DetectorError } from '../native/detect/detector-error.js';
import { BBOX_SORTBY, MASK_FILTER_METHODS, MASK_MERGE_INVERT, predPreprocessing, toPrediction, type MaskOptions } from '../native/adetailer/masks.js';
import { decodeImage, encodePng } from '../native/pipelines/resize.js';
import { createEngineRuntime } from '../native/runtime/ort-backend.js';
import { parseFlags } from './cli.js';

const HELP = `Usage: npm run -s detect -- --model FILE.pt --input IMAGE.png --json OUT.json [options]

  --model FILE              YOLOv8 detector (.pt or .safetensors)
  --input IMAGE             PNG/JPEG/WebP image
  --json OUT.json           where the result goes
  --imgsz N                 network size (default: the checkpoint's train_args imgsz, else 640)
  --conf X                  confidence threshold, ADetailer's ad_confidence (default 0.3)
  --iou X                   NMS IoU threshold (default 0.7)
  --mask-dir DIR            write raw_<j>.png (per detection) and ad_<j>.png (ADetailer's masks)
  --ad-mask-min-ratio X     (default 0)      --ad-mask-max-ratio X   (default 1)
  --ad-mask-k N             (default 0)      --ad-mask-filter-method Area|Confidence (default Area)
  --ad-bbox-sortby "None"|"Position (left to right)"|"Position (center to edge)"|"Area (large to small)"
  --ad-dilate-erode N       (default 4)      --ad-x-offset N (default 0)   --ad-y-offset N (default 0)
  --ad-mask-merge-invert None|Merge|"Merge and Invert" (default None)`;

export class UsageError extends Error {
  readonly code = 'bad_arguments';
}

function num(v: string | undefined, name: string, fallback: number, integer = false): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(v)}`);
  return n;
}

function oneOf<T extends string>(v: string | undefined, name: string, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  const hit = allowed.find((a) => a === v);
  if (!hit) throw new UsageError(`--${name} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(v)}`);
  return hit;
}

/** `--ad-x-offset -4` → `--ad-x-offset=-4`: parseArgs would read a negative number as an option. */
function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = argv[i + 1];
    if (a.startsWith('--') && !a.includes('=') && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** Runs the command on `argv` (flags only); resolves to the exit code (0, or 0 after --help). */
export async function runDetect(argv: string[] = process.argv.slice(2)): Promise<number> {
  const s = { type: 'string' } as const;
  const flags = parseFlags(
    {
      model: s, input: s, json: s, imgsz: s, conf: s, iou: s, 'mask-dir': s,
      'ad-mask-min-ratio': s, 'ad-mask-max-ratio': s, 'ad-mask-k': s, 'ad-mask-filter-method': s, 'ad-bbox-sortby': s,
      'ad-dilate-erode': s, 'ad-x-offset': s, 'ad-y-offset': s, 'ad-mask-merge-invert': s,
    },
    HELP,
    joinNegativeValues(argv),
  );
  if (!flags) return 0;
  if (!flags.model || !flags.input || !flags.json) throw new UsageError('--model, --input and --json are required (see --help)');
  const imgsz = flags.imgsz === undefined ? undefined : num(flags.imgsz, 'imgsz', 640, true);
  if (imgsz !== undefined && imgsz < 1) throw new UsageError('--imgsz must be positive');
  const conf = num(flags.conf, 'conf', 0.3);
  const iou = num(flags.iou, 'iou', 0.7);
  const opts: MaskOptions = {
    ad_mask_min_ratio: num(flags['ad-mask-min-ratio'], 'ad-mask-min-ratio', 0),
    ad_mask_max_ratio: num(flags['ad-mask-max-ratio'], 'ad-mask-max-ratio', 1),
    ad_mask_k: num(flags['ad-mask-k'], 'ad-mask-k', 0, true),
    ad_mask_filter_method: oneOf(flags['ad-mask-filter-method'], 'ad-mask-filter-method', MASK_FILTER_METHODS, 'Area'),
    ad_bbox_sortby: oneOf(flags['ad-bbox-sortby'], 'ad-bbox-sortby', BBOX_SORTBY, 'None'),
    ad_dilate_erode: num(flags['ad-dilate-erode'], 'ad-dilate-erode', 4, true),
    ad_x_offset: num(flags['ad-x-offset'], 'ad-x-offset', 0, true),
    ad_y_offset: num(flags['ad-y-offset'], 'ad-y-offset', 0, true),
    ad_mask_merge_invert: oneOf(flags['ad-mask-merge-invert'], 'ad-mask-merge-invert', MASK_MERGE_INVERT, 'None'),
  };
  let bytes: Uint8Array;
  try {
    bytes = await readFile(flags.input);
  } catch (err) {
    throw new DetectorError('bad_input', `cannot read ${flags.input}: ${(err as Error).message}`);
  }
  const image = await decodeImage(bytes).catch((err: unknown) => {
    throw new DetectorError('bad_input', `${flags.input} is not a readable image: ${(err as Error).message}`);
  });
  const runtime = await createEngineRuntime({ device: 'cpu' });
  const detector = await Detector.load(resolve(flags.model), runtime);
  try {
    const result = await detector.detect(image, { conf, iou, imgsz });
    const pred = toPrediction(result);
    const ad = predPreprocessing(pred, opts);
    const dir = flags['mask-dir'];
    if (dir) await mkdir(dir, { recursive: true });
    const write = async (name: string, m: (typeof pred.masks)[number]) => {
      await writeFile(join(dir!, name), await encodePng(m));
      return name;
    };
    const detections = [];
    for (const [j, d] of result.detections.entries()) {
      detections.push({ box_xyxy: [...d.box], conf: d.conf, cls: d.cls, name: d.name, ...(dir ? { mask: await write(`raw_${j}.png`, pred.masks[j]) } : {}) });
    }
    const out: Record<string, unknown> = {
      image_wh: [...result.imageWh],
      input_hw: [...result.inputHw],
      names: Object.fromEntries([...detector.names].map(([k, v]) => [String(k), v])),
      detections,
    };
    if (dir) {
      const names: string[] = [];
      for (const [j, m] of ad.masks.entries()) names.push(await write(`ad_${j}.png`, m));
      out.adetailer_masks = names;
    } else out.adetailer_mask_count = ad.masks.length;
    await writeFile(flags.json, JSON.stringify(out, null, 1) + '\n');
    return 0;
  } finally {
    await detector.dispose();
  }
}

