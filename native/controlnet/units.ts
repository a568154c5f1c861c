// A request's ControlNet units, from the API fields to what the denoiser runs (README steps 1–7 of
// ../shared/fixtures/sd1-controlnet): validation with coded errors naming the unit and field, the
// extension's "as stored" slider values (modules.ts), the model file (cached per engine), the
// preprocessing (preprocess/, once per request) and the hint at a given size (again at the hires
// size for the second pass), plus the `ControlNet <i>` infotext entries.
import { stat } from 'node:fs/promises';
import { legacyModelHash } from '../models/model-hash.js';
import { decodeImage } from '../pipelines/resize.js';
import type { Raster } from '../pipelines/image-ops.js';
import type { ControlNetUnitRequest, GenerateRequest } from '../pipelines/types.js';
import type { PreparedControlUnit } from './apply.js';
import { CONTROL_MODES, type ControlMode } from './apply.js';
import { a1111ResizeMode, cropToA1111Mask, prepareA1111Mask, type A1111InputRequest } from './a1111-input.js';
import { ControlNetError } from './controlnet-error.js';
import { controlNetName } from './controlnet-file.js';
import type { ControlNetCache, ControlNetModel } from './controlnet-model.js';
import { controlNetModule, normalizeUnitSliders, pyFloatRepr, pyStr, resizeModeFromApi, type ControlNetModule, type UnitSliders } from './modules.js';
import { controlHintFromDetected, preprocessControlImage, type ResizeModeName } from './preprocess/preprocess-control-image.js';

export const MAX_CONTROLNET_UNITS = 3;
const RESIZE_MODES: readonly ResizeModeName[] = ['Just Resize', 'Crop and Resize', 'Resize and Fill'];

/** An enabled unit after validation and preprocessing, ready to give hints at any size. */
export interface LoadedControlUnit {
  /** Position among the enabled units (the infotext's `ControlNet <index>`). */
  index: number;
  module: ControlNetModule;
  /** The module string as given (the infotext prints it as given). */
  moduleText: string;
  model: ControlNetModel;
  /** `stem [hash8]`. */
  modelTitle: string;
  weight: number;
  /** The unit's own resize mode (what the infotext prints). */
  resizeMode: ResizeModeName;
  /** The resize mode its input follows: the unit's, or the img2img one when it takes A1111's image. */
  inputResizeMode: ResizeModeName;
  sliders: UnitSliders;
  guidanceStart: number;
  guidanceEnd: number;
  controlMode: ControlMode;
  pixelPerfect: boolean;
  /** The preprocessor output before the resize mode. */
  detectedRaw: Raster;
  processorResUsed: number;
}

/** How units find their files and models. */
export interface ControlNetUnitDeps {
  resolveControlNet?: (name: string) => string | Promise<string>;
  cache: ControlNetCache;
  family: 'sd1' | 'sdxl';
}

function bad(i: number, field: string, msg: string): ControlNetError {
  return new ControlNetError('bad_controlnet_unit', `ControlNet unit ${i}: ${field} ${msg}`);
}

function num(i: number, field: string, v: unknown, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(i, field, `must be a number, got ${JSON.stringify(v)}`);
  if (v < min || v > max) throw bad(i, field, `must be within ${min}..${max}, got ${v}`);
  return v;
}

/** A unit's model string without the ` [hash8]` the extension appends. */
export function controlNetModelStem(model: string): string {
  return model.replace(/\s*\[[0-9a-fA-F]{8,10}\]$/, '');
}

/**
 * Checks every unit and loads the enabled ones (model, preprocessing at the first-pass size).
 * Throws ControlNetError `bad_controlnet_unit` / `controlnet_not_found` / `controlnet_family_mismatch`,
 * or the preprocessor's `unknown_controlnet_module` / `controlnet_module_unavailable` (message naming the unit).
 */
export async function loadControlUnits(
  req: Pick<GenerateRequest, 'controlnet' | 'image' | 'mask'> & A1111InputRequest,
  deps: ControlNetUnitDeps,
): Promise<LoadedControlUnit[]> {
  const units = req.controlnet ?? [];
  if (!Array.isArray(units)) throw new ControlNetError('bad_controlnet_unit', 'controlnet must be a list of units');
  if (units.length > MAX_CONTROLNET_UNITS) throw new ControlNetError('bad_controlnet_unit', `at most ${MAX_CONTROLNET_UNITS} ControlNet units, got ${units.length}`);
  // Check every field first so a bad unit changes nothing (no model loads, no preprocessing).
  const checked = units.map((u, i) => ({ u, i, c: checkUnit(u, i, req) })).filter((e) => e.c.enabled);
  const out: LoadedControlUnit[] = [];
  // A1111's own inpaint mask: the extension reads it for units without an image and for the crop.
  const a1111Mask = req.task === 'inpaint' && req.mask && checked.length ? await decodeImage(req.mask, true) : undefined;
  for (const [index, { u, i, c }] of checked.entries()) {
    if (!deps.resolveControlNet) throw new ControlNetError('controlnet_not_found', `ControlNet unit ${i}: model "${u.model}" not found: no ControlNet folder is configured`);
    const path = await deps.resolveControlNet(u.model);
    const model = await deps.cache.get(path);
    if (model.file.config.family !== deps.family) {
      throw new ControlNetError(
        'controlnet_family_mismatch',
        `ControlNet unit ${i}: model "${model.name}" is a ${model.file.config.family === 'sdxl' ? 'SDXL' : 'SD 1.x'} ControlNet, the checkpoint is ${deps.family === 'sdxl' ? 'SDXL' : 'SD 1.x'}`,
      );
    }
    const ownImage = u.image !== undefined;
    let image = await decodeImage((u.image ?? req.image)!, true).catch((e: unknown) => {
      throw bad(i, 'image', `is not a readable image: ${(e as Error).message}`);
    });
    let mask = ownImage && u.mask ? await decodeImage(u.mask, true).catch((e: unknown) => {
      throw bad(i, 'mask', `is not a readable image: ${(e as Error).message}`);
    }) : undefined;
    // The extension's `is_inpaint` is "inpaint" in the module name; only those take A1111's mask.
    const isInpaint = c.module.name.includes('inpaint');
    if (!ownImage && isInpaint && a1111Mask) mask = prepareA1111Mask(a1111Mask, req);
    const inputResizeMode = ownImage ? c.resizeMode : a1111ResizeMode(req);
    if (!c.module.name.includes('reference')) [image, mask] = await cropToA1111Mask(mask ? [image, mask] : [image], inputResizeMode, a1111Mask, req);
    const pre = (() => {
      try {
        return preprocessControlImage(image, {
          module: c.moduleText,
          processorRes: c.sliders.processor_res.value,
          thresholdA: c.sliders.threshold_a.value,
          thresholdB: c.sliders.threshold_b.value,
          pixelPerfect: c.pixelPerfect,
          resizeMode: inputResizeMode,
          width: req.width,
          height: req.height,
          mask,
        });
      } catch (err) {
        if (err instanceof Error) err.message = `ControlNet unit ${i}: ${err.message}`;
        throw err;
      }
    })();
    out.push({
      index,
      module: c.module,
      moduleText: c.moduleText,
      model,
      modelTitle: `${controlNetName(path)} [${await titleHash(path)}]`,
      weight: c.weight,
      resizeMode: c.resizeMode,
      inputResizeMode,
      sliders: c.sliders,
      guidanceStart: c.guidanceStart,
      guidanceEnd: c.guidanceEnd,
      controlMode: c.controlMode,
      pixelPerfect: c.pixelPerfect,
      detectedRaw: pre.detectedRaw,
      processorResUsed: pre.processorResUsed,
    });
  }
  return out;
}

/** The hash in a model title: of the file, or of a diffusers folder's weights file. */
async function titleHash(path: string): Promise<string> {
  if ((await stat(path)).isDirectory()) {
    for (const f of ['diffusion_pytorch_model.safetensors', 'diffusion_pytorch_model.fp16.safetensors', 'diffusion_pytorch_model.bin']) {
      const p = `${path}/${f}`;
      if (await stat(p).then(() => true, () => false)) return legacyModelHash(p);
    }
  }
  return legacyModelHash(path);
}

interface CheckedUnit {
  enabled: boolean;
  module: ControlNetModule;
  moduleText: string;
  weight: number;
  resizeMode: ResizeModeName;
  sliders: UnitSliders;
  guidanceStart: number;
  guidanceEnd: number;
  controlMode: ControlMode;
  pixelPerfect: boolean;
}

function checkUnit(u: ControlNetUnitRequest, i: number, req: Pick<GenerateRequest, 'image' | 'task'>): CheckedUnit {
  if (typeof u !== 'object' || u === null) throw new ControlNetError('bad_controlnet_unit', `ControlNet unit ${i} must be an object`);
  const enabled = u.enabled ?? true;
  if (typeof enabled !== 'boolean') throw bad(i, 'enabled', 'must be true or false');
  const moduleText = u.module ?? 'none';
  if (typeof moduleText !== 'string') throw bad(i, 'module', 'must be a string');
  let module: ControlNetModule;
  try {
    module = controlNetModule(moduleText);
  } catch (err) {
    if (err instanceof Error) err.message = `ControlNet unit ${i}: module: ${err.message}`;
    throw err;
  }
  // The extension's names and its older aliases ("Inner Fit (Scale to Fit)", ...).
  let resizeMode: ResizeModeName;
  try {
    resizeMode = resizeModeFromApi(u.resize_mode);
  } catch {
    throw bad(i, 'resize_mode', `must be one of ${RESIZE_MODES.join(', ')}, got ${JSON.stringify(u.resize_mode)}`);
  }
  const controlMode = u.control_mode ?? 'Balanced';
  if (!CONTROL_MODES.includes(controlMode)) throw bad(i, 'control_mode', `must be one of ${CONTROL_MODES.join(', ')}, got ${JSON.stringify(controlMode)}`);
  const pixelPerfect = u.pixel_perfect ?? false;
  if (typeof pixelPerfect !== 'boolean') throw bad(i, 'pixel_perfect', 'must be true or false');
  const weight = num(i, 'weight', u.weight, 0, 2, 1);
  const guidanceStart = num(i, 'guidance_start', u.guidance_start, 0, 1, 0);
  const guidanceEnd = num(i, 'guidance_end', u.guidance_end, 0, 1, 1);
  if (guidanceStart > guidanceEnd) throw bad(i, 'guidance_start', `must not be after guidance_end (${guidanceStart} > ${guidanceEnd})`);
  for (const k of ['processor_res', 'threshold_a', 'threshold_b'] as const) {
    const v = u[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) throw bad(i, k, `must be a number, got ${JSON.stringify(v)}`);
  }
  const sliders = normalizeUnitSliders(module, { processor_res: u.processor_res, threshold_a: u.threshold_a, threshold_b: u.threshold_b });
  if (enabled) {
    if (typeof u.model !== 'string' || u.model === '' || u.model === 'None') throw bad(i, 'model', 'is required (a ControlNet from the controlnet folder)');
    if (module.modelFree) throw bad(i, 'module', `"${moduleText}" runs without a ControlNet model (reference/revision), which Easel does not support`);
    if (!module.available) {
      throw bad(i, 'module', `"${moduleText}" is not available: ${module.unavailableReason ?? 'not supported yet'}`);
    }
    if (u.image === undefined && !(req.task !== 'txt2img' && req.image)) throw bad(i, 'image', 'is required in txt2img (the control image)');
    if (u.image !== undefined && !(u.image instanceof Uint8Array)) throw bad(i, 'image', 'must be encoded image bytes');
  }
  return { enabled, module, moduleText, weight, resizeMode, sliders, guidanceStart, guidanceEnd, controlMode, pixelPerfect };
}

/**
 * The units' hints at a latent size (h, w) (steps 6–7), for one sampling pass. `hires`: the second
 * pass of the hires fix, where the extension forces soft injection for canny/mlsd modules.
 */
export function controlUnitsAt(units: readonly LoadedControlUnit[], width: number, height: number, hires = false): PreparedControlUnit[] {
  return units.map((u) => {
    const { hint } = controlHintFromDetected(u.detectedRaw, { module: u.module.name, resizeMode: u.inputResizeMode, width, height });
    return {
      model: u.model,
      hint: hint.data,
      weight: u.weight,
      guidanceStart: u.guidanceStart,
      guidanceEnd: u.guidanceEnd,
      controlMode: u.controlMode,
      forceSoftInjection: hires && (u.module.name.includes('canny') || u.module.name.includes('mlsd')),
    };
  });
}

/** `ControlNet <i>` infotext entries: the extension's `ControlNetUnit.serialize()` (README step 2). */
export function controlNetInfotext(units: readonly LoadedControlUnit[]): [string, string][] {
  return units.map((u) => {
    const fields: [string, string][] = [
      ['Module', u.moduleText],
      ['Model', u.modelTitle],
      ['Weight', pyFloatRepr(u.weight)],
      ['Resize Mode', u.resizeMode],
      ['Processor Res', pyStr(u.sliders.processor_res)],
      ['Threshold A', pyStr(u.sliders.threshold_a)],
      ['Threshold B', pyStr(u.sliders.threshold_b)],
      ['Guidance Start', pyFloatRepr(u.guidanceStart)],
      ['Guidance End', pyFloatRepr(u.guidanceEnd)],
      ['Pixel Perfect', u.pixelPerfect ? 'True' : 'False'],
      ['Control Mode', u.controlMode],
    ];
    return [`ControlNet ${u.index}`, fields.map(([k, v]) => `${k}: ${v}`).join(', ')];
  });
}
