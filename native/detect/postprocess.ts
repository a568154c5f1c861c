// Ultralytics 8.3.86's post-processing for a single image, in float32 like torch on CPU:
// Detect's decoding (DFL expectation, anchor points, dist2bbox, strides, sigmoid), the
// non_max_suppression ADetailer's call runs (class-aware, best class per box, strict `> conf`,
// stable descending sort, strict `IoU > iou`, max_det), scale_boxes back to the original image
// (rounded padding, division by float32 gain, clip) and process_mask (no sigmoid; crop at 1/4
// resolution; bilinear upsample; `> 0`), then the empty-mask filter of ≥ 8.3.84.
import { pyRound } from './letterbox.js';

const f = Math.fround;

export interface DecodedOutput {
  /** Anchors in order (levels P3..P5, row-major inside a level). */
  readonly count: number;
  /** [count × 4] x_c, y_c, w, h in input pixels. */
  readonly boxes: Float32Array;
  /** [count × nc] sigmoid class scores. */
  readonly scores: Float32Array;
  /** [count × nm] raw mask coefficients (segment models). */
  readonly coeffs: Float32Array | null;
  readonly nc: number;
  readonly nm: number;
}

export interface LevelOutput {
  /** [4·regMax, h, w] box DFL logits. */
  readonly box: Float32Array;
  /** [nc, h, w] class logits. */
  readonly cls: Float32Array;
  /** [nm, h, w] mask coefficients. */
  readonly coeffs?: Float32Array;
  readonly h: number;
  readonly w: number;
  readonly stride: number;
}

function sigmoid(x: number): number {
  return f(1 / (1 + Math.exp(-x)));
}

/** Detect._inference on the raw level outputs. */
export function decodeLevels(levels: readonly LevelOutput[], nc: number, regMax: number, nm: number): DecodedOutput {
  const count = levels.reduce((n, l) => n + l.h * l.w, 0);
  const boxes = new Float32Array(count * 4);
  const scores = new Float32Array(count * nc);
  const coeffs = nm > 0 ? new Float32Array(count * nm) : null;
  const dist = new Float64Array(4);
  let a = 0;
  for (const l of levels) {
    const hw = l.h * l.w;
    const stride = f(l.stride);
    for (let p = 0; p < hw; p++, a++) {
      for (let side = 0; side < 4; side++) {
        // softmax over the bins, then the expectation with DFL's fixed weights 0..regMax-1
        let max = -Infinity;
        for (let k = 0; k < regMax; k++) max = Math.max(max, l.box[(side * regMax + k) * hw + p]);
        let sum = 0, acc = 0;
        for (let k = 0; k < regMax; k++) {
          const e = Math.exp(l.box[(side * regMax + k) * hw + p] - max);
          sum += e;
          acc += e * k;
        }
        dist[side] = f(acc / sum);
      }
      const ax = f((p % l.w) + 0.5), ay = f(Math.floor(p / l.w) + 0.5);
      const x1 = f(ax - dist[0]), y1 = f(ay - dist[1]);
      const x2 = f(ax + dist[2]), y2 = f(ay + dist[3]);
      boxes[a * 4] = f(f(f(x1 + x2) / 2) * stride);
      boxes[a * 4 + 1] = f(f(f(y1 + y2) / 2) * stride);
      boxes[a * 4 + 2] = f(f(x2 - x1) * stride);
      boxes[a * 4 + 3] = f(f(y2 - y1) * stride);
      for (let c = 0; c < nc; c++) scores[a * nc + c] = sigmoid(l.cls[c * hw + p]);
      if (coeffs && l.coeffs) for (let m = 0; m < nm; m++) coeffs[a * nm + m] = l.coeffs[m * hw + p];
    }
  }
  return { count, boxes, scores, coeffs, nc, nm };
}

export interface NmsRow {
  /** x1, y1, x2, y2 in input pixels (unclipped). */
  readonly box: readonly [number, number, number, number];
  readonly conf: number;
  readonly cls: number;
  readonly anchor: number;
}

export interface NmsOptions {
  conf: number;
  iou: number;
  maxDet: number;
}

/** Ultralytics' per-class box offset (max_wh). */
const MAX_WH = 7680;

/** non_max_suppression(prediction, conf, iou, classes=None, agnostic=False, multi_label=False, max_det). */
export function nonMaxSuppression(d: DecodedOutput, opts: NmsOptions): NmsRow[] {
  const conf = f(opts.conf), iouThr = opts.iou;
  const cand: NmsRow[] = [];
  for (let a = 0; a < d.count; a++) {
    let best = -Infinity, cls = 0;
    for (let c = 0; c < d.nc; c++) {
      const s = d.scores[a * d.nc + c];
      if (s > best) {
        best = s;
        cls = c;
      }
    }
    if (!(best > conf)) continue;
    const xc = d.boxes[a * 4], yc = d.boxes[a * 4 + 1];
    const hw = f(d.boxes[a * 4 + 2] / 2), hh = f(d.boxes[a * 4 + 3] / 2);
    cand.push({ box: [f(xc - hw), f(yc - hh), f(xc + hw), f(yc + hh)], conf: best, cls, anchor: a });
  }
  // torchvision.ops.nms on class-offset boxes; Array.prototype.sort is stable
  const order = cand.map((_, i) => i).sort((i, j) => cand[j].conf - cand[i].conf);
  const off = cand.map((c) => {
    const o = f(c.cls * MAX_WH);
    return [f(c.box[0] + o), f(c.box[1] + o), f(c.box[2] + o), f(c.box[3] + o)];
  });
  const area = off.map((b) => f(f(b[2] - b[0]) * f(b[3] - b[1])));
  const suppressed = new Uint8Array(cand.length);
  const keep: NmsRow[] = [];
  for (let oi = 0; oi < order.length; oi++) {
    const i = order[oi];
    if (suppressed[i]) continue;
    keep.push(cand[i]);
    const bi = off[i];
    for (let oj = oi + 1; oj < order.length; oj++) {
      const j = order[oj];
      if (suppressed[j]) continue;
      const bj = off[j];
      const w = Math.max(0, f(Math.min(bi[2], bj[2]) - Math.max(bi[0], bj[0])));
      const h = Math.max(0, f(Math.min(bi[3], bj[3]) - Math.max(bi[1], bj[1])));
      const inter = f(w * h);
      const ovr = f(inter / f(f(area[i] + area[j]) - inter));
      if (ovr > iouThr) suppressed[j] = 1;
    }
  }
  return keep.slice(0, opts.maxDet);
}

/** scale_boxes(input_hw, boxes, orig_hw): rounded padding, float32 division by the gain, clip. */
export function scaleBox(box: readonly number[], inputHw: readonly [number, number], origWh: readonly [number, number]): [number, number, number, number] {
  const [ih, iw] = inputHw;
  const [w0, h0] = origWh;
  const gain = Math.min(ih / h0, iw / w0);
  const padX = pyRound((iw - w0 * gain) / 2 - 0.1);
  const padY = pyRound((ih - h0 * gain) / 2 - 0.1);
  const g = f(gain);
  const clip = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  return [
    clip(f(f(box[0] - padX) / g), w0),
    clip(f(f(box[1] - padY) / g), h0),
    clip(f(f(box[2] - padX) / g), w0),
    clip(f(f(box[3] - padY) / g), h0),
  ];
}

/**
 * process_mask(proto, coeffs, boxes, (ih, iw), upsample=True) for one detection: the 0/1 mask at
 * input size. `proto` is [nm, mh, mw]; the box is in input pixels.
 */
export function processMask(proto: Float32Array, nm: number, mh: number, mw: number, coeffs: Float32Array, box: readonly number[], ih: number, iw: number): Uint8Array {
  const plane = mh * mw;
  const rx = f(mw / iw), ry = f(mh / ih);
  const bx1 = f(box[0] * rx), bx2 = f(box[2] * rx), by1 = f(box[1] * ry), by2 = f(box[3] * ry);
  const small = new Float32Array(plane);
  for (let r = 0; r < mh; r++) {
    if (!(r >= by1 && r < by2)) continue;
    for (let c = 0; c < mw; c++) {
      if (!(c >= bx1 && c < bx2)) continue;
      let acc = 0;
      const p = r * mw + c;
      for (let k = 0; k < nm; k++) acc += coeffs[k] * proto[k * plane + p];
      small[p] = f(acc);
    }
  }
  return upsampleSign(small, mh, mw, ih, iw);
}

/** F.interpolate(bilinear, align_corners=False) then `> 0`, as 0/1. */
function upsampleSign(src: Float32Array, ih: number, iw: number, oh: number, ow: number): Uint8Array {
  const sh = f(ih / oh), sw = f(iw / ow);
  const xs = new Int32Array(ow * 2), xl = new Float32Array(ow * 2);
  for (let x = 0; x < ow; x++) {
    const s = Math.max(f(f(sw * f(x + 0.5)) - 0.5), 0);
    const x0 = Math.floor(s);
    const l1 = f(s - x0);
    xs[2 * x] = x0;
    xs[2 * x + 1] = x0 < iw - 1 ? x0 + 1 : x0;
    xl[2 * x] = f(1 - l1);
    xl[2 * x + 1] = l1;
  }
  const out = new Uint8Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    const s = Math.max(f(f(sh * f(y + 0.5)) - 0.5), 0);
    const y0 = Math.floor(s);
    const y1 = y0 < ih - 1 ? y0 + 1 : y0;
    const l1 = f(s - y0), l0 = f(1 - l1);
    for (let x = 0; x < ow; x++) {
      const a = xs[2 * x], b = xs[2 * x + 1], wa = xl[2 * x], wb = xl[2 * x + 1];
      const top = f(f(wa * src[y0 * iw + a]) + f(wb * src[y0 * iw + b]));
      const bot = f(f(wa * src[y1 * iw + a]) + f(wb * src[y1 * iw + b]));
      const v = f(f(l0 * top) + f(l1 * bot));
      out[y * ow + x] = v > 0 ? 1 : 0;
    }
  }
  return out;
}
