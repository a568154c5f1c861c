// ADetailer v25.3.0's masks (adetailer/common.py, adetailer/ultralytics.py, adetailer/mask.py):
// rectangle masks for detection models, `mask_to_pil` for segmentation models, then
// `pred_preprocessing`: filter_by_ratio → filter_k_by → sort_bboxes → mask_preprocess (cyclic
// offset, dilate/erode with a rectangular kernel, drop black masks, merge / merge and invert).
// Masks are 8-bit one-channel rasters at the image size (0 = keep, 255 = repaint).
import { makeRaster, type Raster } from '../pipelines/image-ops.js';
import type { DetectionResult } from '../detect/detector.js';
import { pillowResizeL } from './pillow-resize.js';
import type { BboxSortBy, MaskFilterMethod, MaskMergeInvert } from './args.js';

export { BBOX_SORTBY, MASK_FILTER_METHODS, MASK_MERGE_INVERT, type BboxSortBy, type MaskFilterMethod, type MaskMergeInvert } from './args.js';

/** What ADetailer's ultralytics_predict returns (PredictOutput), minus the preview image. */
export interface Prediction {
  bboxes: number[][];
  masks: Raster[];
  confidences: number[];
  /** Image (= preview) size. */
  width: number;
  height: number;
}

export interface MaskOptions {
  ad_mask_min_ratio: number;
  ad_mask_max_ratio: number;
  ad_mask_k: number;
  ad_mask_filter_method: MaskFilterMethod;
  ad_bbox_sortby: BboxSortBy;
  ad_dilate_erode: number;
  ad_x_offset: number;
  ad_y_offset: number;
  ad_mask_merge_invert: MaskMergeInvert;
}

export const DEFAULT_MASK_OPTIONS: MaskOptions = {
  ad_mask_min_ratio: 0,
  ad_mask_max_ratio: 1,
  ad_mask_k: 0,
  ad_mask_filter_method: 'Area',
  ad_bbox_sortby: 'None',
  ad_dilate_erode: 4,
  ad_x_offset: 0,
  ad_y_offset: 0,
  ad_mask_merge_invert: 'None',
};

/** create_mask_from_bbox: Pillow's rectangle fills columns int(x1)..int(x2) and rows int(y1)..int(y2) inclusive. */
export function maskFromBox(box: readonly number[], width: number, height: number): Raster {
  const m = makeRaster(width, height, 1);
  const x1 = Math.max(0, Math.trunc(box[0])), y1 = Math.max(0, Math.trunc(box[1]));
  const x2 = Math.min(width - 1, Math.trunc(box[2])), y2 = Math.min(height - 1, Math.trunc(box[3]));
  for (let y = y1; y <= y2; y++) m.data.fill(255, y * width + x1, y * width + x2 + 1);
  return m;
}

/** mask_to_pil: the letterbox-size 0/1 mask as 0/255, stretched to the image size with Pillow bicubic. */
export function maskToPil(mask01: Uint8Array, inputHw: readonly [number, number], width: number, height: number): Raster {
  const [ih, iw] = inputHw;
  const l = makeRaster(iw, ih, 1);
  for (let i = 0; i < mask01.length; i++) l.data[i] = mask01[i] ? 255 : 0;
  return pillowResizeL(l, width, height);
}

/** ultralytics_predict's PredictOutput for a detection result (empty lists when nothing was found). */
export function toPrediction(r: DetectionResult): Prediction {
  const [width, height] = r.imageWh;
  return {
    bboxes: r.detections.map((d) => [...d.box]),
    masks: r.detections.map((d) => (d.mask ? maskToPil(d.mask, r.inputHw, width, height) : maskFromBox(d.box, width, height))),
    confidences: r.detections.map((d) => d.conf),
    width,
    height,
  };
}

const area = (b: readonly number[]) => (b[2] - b[0]) * (b[3] - b[1]);

function pick(p: Prediction, idx: number[], withConf = true): Prediction {
  return {
    ...p,
    bboxes: idx.map((i) => p.bboxes[i]),
    masks: idx.map((i) => p.masks[i]),
    confidences: withConf ? idx.map((i) => p.confidences[i]) : p.confidences,
  };
}

export function filterByRatio(p: Prediction, low: number, high: number): Prediction {
  if (p.bboxes.length === 0) return p;
  const orig = p.width * p.height;
  const idx = p.bboxes.map((_, i) => i).filter((i) => {
    const r = area(p.bboxes[i]) / orig;
    return low <= r && r <= high;
  });
  return pick(p, idx);
}

/** np.argsort(values)[-k:][::-1]: the k largest, largest first (ties: the later index first). */
function topK(values: readonly number[], k: number): number[] {
  const asc = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  return asc.slice(Math.max(0, asc.length - k)).reverse();
}

export function filterKBy(p: Prediction, k: number, by: MaskFilterMethod): Prediction {
  if (p.bboxes.length === 0 || k === 0) return p;
  if (by === 'Confidence' && p.confidences.length === 0) return p;
  return pick(p, topK(by === 'Area' ? p.bboxes.map(area) : p.confidences, k));
}

/** sort_bboxes (stable); reorders boxes and masks, not confidences, like ADetailer. */
export function sortBboxes(p: Prediction, order: BboxSortBy): Prediction {
  if (order === 'None' || p.bboxes.length <= 1) return p;
  const cx = p.width / 2, cy = p.height / 2;
  const key = (b: number[]): number => {
    if (order === 'Position (left to right)') return b[0];
    if (order === 'Position (center to edge)') return Math.hypot((b[0] + b[2]) / 2 - cx, (b[1] + b[3]) / 2 - cy);
    return -area(b);
  };
  const keys = p.bboxes.map(key);
  const idx = p.bboxes.map((_, i) => i).sort((a, b) => keys[a] - keys[b]);
  return pick(p, idx, false);
}

/** ImageChops.offset(mask, x, -y): a cyclic shift, +x right, +y up. */
export function offsetMask(m: Raster, x: number, y: number): Raster {
  const { width: w, height: h } = m;
  const out = makeRaster(w, h, 1);
  const dx = ((x % w) + w) % w, dy = (((-y) % h) + h) % h;
  for (let r = 0; r < h; r++) {
    const sr = (r - dy + h) % h;
    for (let c = 0; c < w; c++) out.data[r * w + c] = m.data[sr * w + ((c - dx + w) % w)];
  }
  return out;
}

/** cv2.dilate (k > 0) / cv2.erode (k < 0) with a |k|×|k| MORPH_RECT, anchor |k|//2, pixels outside never win. */
export function dilateErode(m: Raster, k: number): Raster {
  if (k === 0) return m;
  const size = Math.abs(k), anchor = size >> 1;
  const dilate = k > 0;
  const { width: w, height: h } = m;
  const pass = (src: Uint8Array, horizontal: boolean): Uint8Array => {
    const out = new Uint8Array(src.length);
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        let v = dilate ? 0 : 255;
        for (let t = 0; t < size; t++) {
          const rr = horizontal ? r : r + t - anchor, cc = horizontal ? c + t - anchor : c;
          if (rr < 0 || rr >= h || cc < 0 || cc >= w) continue;
          const s = src[rr * w + cc];
          v = dilate ? Math.max(v, s) : Math.min(v, s);
        }
        out[r * w + c] = v;
      }
    }
    return out;
  };
  return { width: w, height: h, channels: 1, data: pass(pass(m.data, true), false) };
}

const isBlack = (m: Raster) => !m.data.some((v) => v !== 0);

export function maskPreprocess(masks: Raster[], kernel: number, x: number, y: number, mode: MaskMergeInvert): Raster[] {
  if (masks.length === 0) return [];
  let out = masks;
  if (x !== 0 || y !== 0) out = out.map((m) => offsetMask(m, x, y));
  if (kernel !== 0) out = out.map((m) => dilateErode(m, kernel)).filter((m) => !isBlack(m));
  if (mode === 'None' || out.length === 0) return out;
  const merged = makeRaster(out[0].width, out[0].height, 1);
  for (const m of out) for (let i = 0; i < merged.data.length; i++) merged.data[i] |= m.data[i];
  if (mode === 'Merge and Invert') for (let i = 0; i < merged.data.length; i++) merged.data[i] = 255 - merged.data[i];
  return [merged];
}

/** AfterDetailerScript.pred_preprocessing: the masks ADetailer inpaints, in order, plus the boxes they came from. */
export function predPreprocessing(p: Prediction, o: MaskOptions): { masks: Raster[]; bboxes: number[][] } {
  let q = filterByRatio(p, o.ad_mask_min_ratio, o.ad_mask_max_ratio);
  q = filterKBy(q, o.ad_mask_k, o.ad_mask_filter_method);
  q = sortBboxes(q, o.ad_bbox_sortby);
  return { masks: maskPreprocess(q.masks, o.ad_dilate_erode, o.ad_x_offset, o.ad_y_offset, o.ad_mask_merge_invert), bboxes: q.bboxes };
}
