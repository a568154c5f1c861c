// How sd-webui-controlnet (hook.py) applies ControlNet units at every denoiser call, for any
// sampler: before each call the unit is skipped when `sampling_step / sampling_steps` lies outside
// [guidance_start, guidance_end] — sampling_step being the index of the LAST COMPLETED sampler
// callback (0 before the first), so with one call per step the calls see 0, 0, 1/N, 2/N, … —
// otherwise the ControlNet runs on the UNet's own x, t and context (cond and uncond rows together),
// its 13 residuals are multiplied by the cond mark (cfg injection: 1 for cond rows, 0 for uncond
// rows; "ControlNet is more important" and shuffle models) and by the unit's scales (weight, or
// weight·0.825^(12−i) with soft injection: "My prompt is more important", "ControlNet is more
// important", and canny/mlsd hints in the hires pass), and summed over units. The UNet then adds
// the sums (unet-graph.ts `controlResiduals`); a call with no active unit adds zeros.
import { unetResidualShapes } from '../runtime/runners.js';
import type { UNetCallExtra, UNetEpsFn } from '../sampling/denoiser.js';
import { f32 } from '../sampling/torch-math.js';
import type { ControlNetModel } from './controlnet-model.js';

/** sd-webui-controlnet's control_mode values. */
export const CONTROL_MODES = ['Balanced', 'My prompt is more important', 'ControlNet is more important'] as const;
export type ControlMode = (typeof CONTROL_MODES)[number];

/** A unit ready to run at one latent size: its model, its hint at 8× that size, and its settings. */
export interface PreparedControlUnit {
  model: ControlNetModel;
  /** [1, 3, H, W] in [0, 1] (detected map / 255), H×W = the latent size × 8. */
  hint: Float32Array;
  weight: number;
  guidanceStart: number;
  guidanceEnd: number;
  controlMode: ControlMode;
  /** Soft injection regardless of the mode (the extension forces it for canny/mlsd in the hires pass). */
  forceSoftInjection?: boolean;
}

/**
 * The per-residual scales of a unit: weight, or weight·0.825^(12−i) with soft injection. The
 * extension computes the 13 SD1 scales and keeps the first 10 for SDXL (`control_scales[:10]`), so
 * SDXL's middle block gets 0.825³ too — kept as it does.
 */
export function controlScales(weight: number, soft: boolean, count: number): number[] {
  return Array.from({ length: count }, (_, i) => (soft ? weight * 0.825 ** (12 - i) : weight));
}

/** What one denoiser call added at UNet level i (null: no unit ran) and which units ran (tests compare with the fixture). */
export type ResidualsObserver = (call: number, residuals: readonly Float32Array[] | null, units: readonly number[]) => void;

/**
 * The units of one sampling run. Feed `onStep` from the sampler's step callback; wrap the UNet with
 * `wrap` (the wrapped function takes the same arguments and computes the residuals itself).
 *
 * @example const cn = new ControlNetRun(units, steps); runSampling({ ..., cfg: { ...cfg, unet: cn.wrap(unet) }, onStep: (s) => { cn.onStep(s.index); ... } })
 */
export class ControlNetRun {
  private samplingStep = 0;
  private calls = 0;

  constructor(
    private readonly units: readonly PreparedControlUnit[],
    /** A1111 state.sampling_steps: the steps of this sampling run (img2img: t_enc + 1). */
    private readonly samplingSteps: number,
    private readonly observe?: ResidualsObserver,
  ) {}

  /** The sampler's step callback for step `index` (A1111 sets state.sampling_step = index). */
  onStep(index: number): void {
    this.samplingStep = index;
  }

  /** Indices of the units that run at the current call. */
  activeUnits(): number[] {
    const pct = this.samplingStep / this.samplingSteps;
    return this.units.flatMap((u, i) => (pct < u.guidanceStart || pct > u.guidanceEnd ? [] : [i]));
  }

  private zeroResiduals: { key: string; data: Float32Array[] } | undefined;

  private zeros(dims: { batch: number; h: number; w: number; tokens: number }): Float32Array[] {
    const key = `${dims.batch}-${dims.h}x${dims.w}`;
    if (this.zeroResiduals?.key !== key) {
      const shapes = unetResidualShapes(this.units[0]!.model.file.config.unet, dims);
      this.zeroResiduals = { key, data: shapes.map((s) => new Float32Array(s.reduce((a, b) => a * b, 1))) };
    }
    return this.zeroResiduals.data;
  }

  /** The UNet with the units applied; `unet` must accept `extra.residuals`. */
  wrap(unet: UNetEpsFn): UNetEpsFn {
    return async (x, t, context, dims, y, extra?: UNetCallExtra) => {
      const call = this.calls++;
      const active = this.activeUnits();
      if (active.length === 0) {
        // The residual UNet variant with zeros (exactly the plain result, as the extension's hooked
        // forward adds 0.0): one UNet session per ControlNet request, not two.
        this.observe?.(call, null, active);
        return unet(x, t, context, dims, y, { ...extra, residuals: this.zeros(dims) });
      }
      const rows = extra?.condRows ?? new Array<boolean>(dims.batch).fill(true);
      let total: Float32Array[] | undefined;
      for (const i of active) {
        const u = this.units[i]!;
        // The inpainting UNet's extra channels are not the ControlNet's: it gets the 4 latent channels.
        const cin = u.model.file.config.unet.in_channels;
        const xc = x.length === dims.batch * cin * dims.h * dims.w ? x : firstChannels(x, dims.batch, x.length / (dims.batch * dims.h * dims.w), cin, dims.h * dims.w);
        const raw = await u.model.residuals(xc, t, context, u.hint, dims, y);
        const soft = u.forceSoftInjection === true || u.controlMode !== 'Balanced';
        const cfgInjection = u.controlMode === 'ControlNet is more important' || u.model.file.config.global_average_pooling;
        const scales = controlScales(u.weight, soft, raw.length);
        const gap = u.model.file.config.global_average_pooling;
        const shapes = gap ? unetResidualShapes(u.model.file.config.unet, dims) : [];
        const scaled = raw.map((r, k) => {
          const per = r.length / dims.batch;
          const s = f32(scales[k]!);
          const out = new Float32Array(r.length);
          for (let n = 0; n < dims.batch; n++) {
            const mark = cfgInjection && !rows[n] ? 0 : 1;
            for (let j = n * per; j < (n + 1) * per; j++) out[j] = f32(f32(r[j]! * mark) * s);
          }
          return gap ? spatialMean(out, shapes[k]![0]! * shapes[k]![1]!, shapes[k]![2]! * shapes[k]![3]!) : out;
        });
        total = total ? total.map((acc, k) => addInto(scaled[k]!, acc)) : scaled;
      }
      this.observe?.(call, total!, active);
      return unet(x, t, context, dims, y, { ...extra, residuals: total });
    };
  }
}

function addInto(a: Float32Array, b: Float32Array): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] = f32(a[i]! + b[i]!);
  return a;
}

/** x [B, C, hw] → its first `keep` channels [B, keep, hw]. */
function firstChannels(x: Float32Array, batch: number, channels: number, keep: number, plane: number): Float32Array {
  const out = new Float32Array(batch * keep * plane);
  for (let n = 0; n < batch; n++) out.set(x.subarray(n * channels * plane, (n * channels + keep) * plane), n * keep * plane);
  return out;
}

/**
 * Shuffle ControlNets (global_average_pooling): each residual [B, C, H, W] is replaced by its mean
 * over H×W; the extension keeps [B, C, 1, 1] and its add broadcasts, here the mean is broadcast back.
 */
function spatialMean(r: Float32Array, planes: number, plane: number): Float32Array {
  const out = new Float32Array(r.length);
  for (let p = 0; p < planes; p++) {
    let sum = 0;
    for (let j = p * plane; j < (p + 1) * plane; j++) sum += r[j]!;
    out.fill(f32(sum / plane), p * plane, (p + 1) * plane);
  }
  return out;
}
