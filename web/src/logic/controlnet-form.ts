// The ControlNet tab's state: up to three units with the extension's fields, their conversion to
// the `generate` payload's `controlnet` units, and back from an image's infotext
// (`ControlNet N: "Module: canny, Model: ..., Weight: 1.0, ..."`) when its parameters are reused.
// A slider the user never touched stays null and is left out, so the server applies the module's
// default exactly as the extension does (the infotext prints a default `100`, a given `100.0`).
import type { InitImage } from './generation-form.js';

export const MAX_CONTROL_UNITS = 3;
export const RESIZE_MODES = ['Just Resize', 'Crop and Resize', 'Resize and Fill'] as const;
export const CONTROL_MODES = ['Balanced', 'My prompt is more important', 'ControlNet is more important'] as const;
export type ResizeModeName = (typeof RESIZE_MODES)[number];
export type ControlModeName = (typeof CONTROL_MODES)[number];

export interface ControlUnitState {
  enabled: boolean;
  image: InitImage | null;
  module: string;
  /** Registry name of the ControlNet file ('' = none chosen). */
  model: string;
  weight: number;
  guidanceStart: number;
  guidanceEnd: number;
  controlMode: ControlModeName;
  resizeMode: ResizeModeName;
  pixelPerfect: boolean;
  /** null: the module's default (the field is left out). */
  processorRes: number | null;
  thresholdA: number | null;
  thresholdB: number | null;
}

export function defaultControlUnit(): ControlUnitState {
  return {
    enabled: false,
    image: null,
    module: 'canny',
    model: '',
    weight: 1,
    guidanceStart: 0,
    guidanceEnd: 1,
    controlMode: 'Balanced',
    resizeMode: 'Crop and Resize',
    pixelPerfect: false,
    processorRes: null,
    thresholdA: null,
    thresholdB: null,
  };
}

export function defaultControlUnits(): ControlUnitState[] {
  return Array.from({ length: MAX_CONTROL_UNITS }, defaultControlUnit);
}

/** One unit of the `generate` payload (server/protocol/controlnet.ts field names). */
export interface ControlUnitParams {
  enabled: true;
  module: string;
  model: string;
  weight: number;
  image?: string;
  resize_mode: ResizeModeName;
  guidance_start: number;
  guidance_end: number;
  control_mode: ControlModeName;
  pixel_perfect: boolean;
  processor_res?: number;
  threshold_a?: number;
  threshold_b?: number;
}

/** Problems of the enabled units, by `controlnet.<i>.<field>` as the server names them. */
export function validateControlUnits(units: readonly ControlUnitState[], img2img: boolean): Record<string, string> {
  const errors: Record<string, string> = {};
  units.forEach((u, i) => {
    if (!u.enabled) return;
    if (!u.model) errors[`controlnet.${i}.model`] = 'choose a ControlNet model';
    if (!u.image && !img2img) errors[`controlnet.${i}.image`] = 'add a control image';
    if (!(u.weight >= 0 && u.weight <= 2)) errors[`controlnet.${i}.weight`] = `must be between 0 and 2, got ${u.weight}`;
    if (!(u.guidanceStart >= 0 && u.guidanceStart <= u.guidanceEnd && u.guidanceEnd <= 1)) {
      errors[`controlnet.${i}.guidance_start`] = `start and end must satisfy 0 ≤ start ≤ end ≤ 1, got ${u.guidanceStart}–${u.guidanceEnd}`;
    }
  });
  return errors;
}

/** The enabled units as the payload sends them (undefined when none is on). */
export function controlUnitsToParams(units: readonly ControlUnitState[]): ControlUnitParams[] | undefined {
  const out: ControlUnitParams[] = [];
  for (const u of units) {
    if (!u.enabled) continue;
    const p: ControlUnitParams = {
      enabled: true,
      module: u.module,
      model: u.model,
      weight: u.weight,
      resize_mode: u.resizeMode,
      guidance_start: u.guidanceStart,
      guidance_end: u.guidanceEnd,
      control_mode: u.controlMode,
      pixel_perfect: u.pixelPerfect,
    };
    if (u.image) p.image = u.image.dataUrl;
    if (u.processorRes !== null) p.processor_res = u.processorRes;
    if (u.thresholdA !== null) p.threshold_a = u.thresholdA;
    if (u.thresholdB !== null) p.threshold_b = u.thresholdB;
    out.push(p);
  }
  return out.length > 0 ? out : undefined;
}

/** `"Module: canny, Model: x [h], Weight: 1.0"` → { Module: 'canny', ... } (the extension's parse). */
function unitFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of text.split(',')) {
    const at = item.indexOf(': ');
    if (at > 0) out[item.slice(0, at).trim()] = item.slice(at + 2).trim();
  }
  return out;
}

const num = (v: string | undefined): number | undefined => (v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined);

/**
 * The units of an image's infotext (`ControlNet 0`, `ControlNet 1`, ...) applied over `current`:
 * each named unit is switched on with its settings, its control image kept (infotexts carry none);
 * the others are switched off. `modelName` maps the extension's `name [hash]` to a registry name.
 * Undefined when the infotext has no ControlNet unit.
 *
 * @example controlUnitsFromInfotext([['ControlNet 0', 'Module: canny, Model: c [1234abcd], Weight: 1.0']], units, (t) => 'c.safetensors')
 */
export function controlUnitsFromInfotext(
  params: readonly [string, string][],
  current: readonly ControlUnitState[],
  modelName: (title: string) => string | undefined,
): ControlUnitState[] | undefined {
  const found = params.filter(([k]) => /^ControlNet \d+$/.test(k));
  if (found.length === 0) return undefined;
  const units = current.map((u) => ({ ...u, enabled: false }));
  found.slice(0, MAX_CONTROL_UNITS).forEach(([, text], i) => {
    const f = unitFields(text);
    const base = units[i] ?? defaultControlUnit();
    const resize = RESIZE_MODES.find((m) => m === f['Resize Mode']);
    const mode = CONTROL_MODES.find((m) => m === f['Control Mode']);
    const res = num(f['Processor Res']);
    units[i] = {
      ...base,
      enabled: true,
      module: f.Module ?? base.module,
      model: (f.Model && (modelName(f.Model) ?? f.Model)) || base.model,
      weight: num(f.Weight) ?? 1,
      guidanceStart: num(f['Guidance Start']) ?? 0,
      guidanceEnd: num(f['Guidance End']) ?? 1,
      resizeMode: resize ?? 'Crop and Resize',
      controlMode: mode ?? 'Balanced',
      pixelPerfect: f['Pixel Perfect'] === 'True',
      processorRes: res !== undefined && res >= 64 ? res : null,
      thresholdA: num(f['Threshold A']) ?? null,
      thresholdB: num(f['Threshold B']) ?? null,
    };
  });
  return units;
}
