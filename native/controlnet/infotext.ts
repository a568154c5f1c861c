// Reading `ControlNet <i>: "Module: canny, Model: name [hash8], Weight: 1.0, ..."` back into unit
// fields (the extension's `ControlNetUnit.parse`: `, `-separated `Field Name: value` pairs), so
// that reusing an image's parameters re-applies its units (the control image is not in the text).
import type { ControlNetUnitRequest } from '../pipelines/types.js';
import { CONTROL_MODES, type ControlMode } from './apply.js';

/** A unit as an infotext describes it: every field but the images. */
export type InfotextControlUnit = Omit<ControlNetUnitRequest, 'image' | 'mask'> & { enabled: true };

const RESIZE: readonly NonNullable<ControlNetUnitRequest['resize_mode']>[] = ['Just Resize', 'Crop and Resize', 'Resize and Fill'];

/** One serialized unit → its fields; undefined when it is not the extension's format. */
export function parseControlNetUnit(text: string): InfotextControlUnit | undefined {
  const kv = new Map<string, string>();
  for (const part of text.split(', ')) {
    const i = part.indexOf(': ');
    if (i < 0) return undefined;
    kv.set(part.slice(0, i).trim(), part.slice(i + 2).trim());
  }
  const model = kv.get('Model');
  const module = kv.get('Module');
  if (model === undefined || module === undefined) return undefined;
  const num = (k: string): number | undefined => {
    const v = kv.get(k);
    const n = v === undefined ? NaN : Number(v);
    return Number.isFinite(n) ? n : undefined;
  };
  const unit: InfotextControlUnit = { enabled: true, module, model };
  const weight = num('Weight');
  if (weight !== undefined) unit.weight = weight;
  const resize = kv.get('Resize Mode');
  if (resize && (RESIZE as readonly string[]).includes(resize)) unit.resize_mode = resize as InfotextControlUnit['resize_mode'];
  const res = num('Processor Res');
  if (res !== undefined) unit.processor_res = res;
  const a = num('Threshold A');
  if (a !== undefined) unit.threshold_a = a;
  const b = num('Threshold B');
  if (b !== undefined) unit.threshold_b = b;
  const gs = num('Guidance Start');
  if (gs !== undefined) unit.guidance_start = gs;
  const ge = num('Guidance End');
  if (ge !== undefined) unit.guidance_end = ge;
  const pp = kv.get('Pixel Perfect');
  if (pp === 'True' || pp === 'False') unit.pixel_perfect = pp === 'True';
  const mode = kv.get('Control Mode');
  if (mode && (CONTROL_MODES as readonly string[]).includes(mode)) unit.control_mode = mode as ControlMode;
  return unit;
}

/**
 * The units of an infotext's fields (`ControlNet 0`, `ControlNet 1`, ... in index order).
 *
 * @example controlNetFromInfotext({ 'ControlNet 0': 'Module: canny, Model: c [93054dcb], Weight: 1.0' })[0].weight // 1
 */
export function controlNetFromInfotext(fields: Readonly<Record<string, unknown>>): InfotextControlUnit[] {
  return Object.keys(fields)
    .map((k) => /^ControlNet (\d+)$/.exec(k))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((x, y) => Number(x[1]) - Number(y[1]))
    .flatMap((m) => {
      const v = fields[m[0]];
      const u = typeof v === 'string' ? parseControlNetUnit(v) : undefined;
      return u ? [u] : [];
    });
}
