// sd-webui-controlnet's `alwayson_scripts.controlnet.args` → Easel's `controlnet` units, as the
// extension's API reads them (internal_controlnet/args.py `ControlNetUnit.from_dict`): dicts are
// units, anything else is skipped; legacy `input_image` / `guidance` / `lowvram` and Forge's
// `mask_image` are renamed; `image` may be a base64 string, `{image, mask}` or `[image, mask]`;
// keys the extension has but Easel does not act on are dropped when they are at their defaults,
// and refused with a 501 naming them when they ask for something Easel cannot do.
import { MissingFeatureError } from './translate.js';

/** The unit fields Easel's protocol takes (server/protocol/controlnet.ts). */
const KNOWN = new Set([
  'enabled',
  'module',
  'model',
  'weight',
  'image',
  'image_id',
  'mask',
  'resize_mode',
  'processor_res',
  'threshold_a',
  'threshold_b',
  'guidance_start',
  'guidance_end',
  'control_mode',
  'pixel_perfect',
]);

const LEGACY: Record<string, string> = { input_image: 'image', guidance: 'guidance_end', lowvram: 'low_vram', mask_image: 'mask' };

/** Extension fields whose non-default values change the result in ways Easel does not do yet. */
function refuseUnsupported(unit: Record<string, unknown>, index: number): void {
  const where = `alwayson_scripts.controlnet.args[${index}]`;
  if (unit.advanced_weighting !== undefined && unit.advanced_weighting !== null) throw new MissingFeatureError('controlnet.advanced_weighting', `${where}.advanced_weighting is not available in Easel`);
  if (unit.effective_region_mask !== undefined && unit.effective_region_mask !== null) throw new MissingFeatureError('controlnet.effective_region_mask', `${where}.effective_region_mask is not available in Easel`);
  if (unit.hr_option !== undefined && unit.hr_option !== 'Both') throw new MissingFeatureError('controlnet.hr_option', `${where}.hr_option other than "Both" is not available in Easel`);
  if (unit.ipadapter_input !== undefined && unit.ipadapter_input !== null) throw new MissingFeatureError('controlnet.ipadapter_input', `${where}.ipadapter_input is not available in Easel`);
}

/**
 * @example controlNetUnitsFromArgs([{ module: 'canny', model: 'control_v11p_sd15_canny [d14c016b]', image: b64 }]).units
 */
export function controlNetUnitsFromArgs(args: readonly unknown[]): { units: Record<string, unknown>[]; argIndex: number[] } {
  const units: Record<string, unknown>[] = [];
  const argIndex: number[] = [];
  args.forEach((a, k) => {
    if (typeof a !== 'object' || a === null || Array.isArray(a)) return;
    const raw = { ...(a as Record<string, unknown>) };
    for (const [old, name] of Object.entries(LEGACY)) {
      if (raw[old] !== undefined && raw[name] === undefined) raw[name] = raw[old];
      delete raw[old];
    }
    refuseUnsupported(raw, k);
    // `image` as {image, mask} or [image, mask] (the extension's API forms).
    const img = raw.image;
    if (Array.isArray(img) && img.length === 2 && typeof img[0] === 'string') {
      raw.image = img[0];
      if (img[1] !== null && img[1] !== undefined && raw.mask === undefined) raw.mask = img[1];
    } else if (typeof img === 'object' && img !== null && !Array.isArray(img)) {
      const pair = img as { image?: unknown; mask?: unknown };
      raw.image = pair.image;
      if (pair.mask !== null && pair.mask !== undefined && raw.mask === undefined) raw.mask = pair.mask;
    }
    const unit: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(raw)) if (KNOWN.has(key) && v !== null && v !== undefined) unit[key] = v;
    units.push(unit);
    argIndex.push(k);
  });
  return { units, argIndex };
}
