// Merging a set of LoRA networks into checkpoint weights: W' = W + Σ_n delta_n, one network after the
// other in float32 (A1111 adds each network's `updown` to the weight in turn). The text encoder and
// the UNet take separate multipliers (`<lora:name:te:unet>`).
import { partOfKey, SLICE_SUFFIXES, splitTarget } from './kohya-keys.js';
import type { LoraNetwork } from './lora-file.js';
import { addInPlace, moduleDelta, moduleDeltaWith, type Tensor } from './lora-math.js';

export type LoraPart = 'textEncoder' | 'unet';

/** What identifies a LoRA in a set (enough for cache ids, without its tensors). */
export interface LoraSetMember {
  /** Identity of the file's content (the addnet sha256). */
  hash: string;
  teMultiplier: number;
  unetMultiplier: number;
  /** Parts the file has modules for. */
  parts: ReadonlySet<LoraPart>;
}

/** A LoRA whose modules are in memory. */
export interface AppliedLora extends LoraSetMember {
  network: LoraNetwork;
}

/** A LoRA whose modules are read only if a merge has to be computed. */
export interface LazyLora extends LoraSetMember {
  load(): Promise<LoraNetwork>;
}

/** Parts a parsed network changes. */
export function partsOf(network: LoraNetwork): Set<LoraPart> {
  const parts = new Set<LoraPart>();
  for (const k of network.modules.keys()) {
    const p = partOfKey(k);
    if (p !== 'other') parts.add(p);
  }
  return parts;
}

/** An AppliedLora for a parsed network. */
export function appliedLora(network: LoraNetwork, hash: string, teMultiplier: number, unetMultiplier = teMultiplier): AppliedLora {
  return { network, hash, teMultiplier, unetMultiplier, parts: partsOf(network) };
}

/** The multiplier a network applies to `key`'s part (0 for keys outside text encoder and UNet). */
export function multiplierFor(l: LoraSetMember, key: string): number {
  const part = partOfKey(key);
  return part === 'unet' ? l.unetMultiplier : part === 'textEncoder' ? l.teMultiplier : 0;
}

/** The members of `set` that change `part`, in a canonical order (so equal sets merge bit-identically). */
export function activeForPart<T extends LoraSetMember>(set: readonly T[], part: LoraPart): T[] {
  const mult = (l: LoraSetMember) => (part === 'unet' ? l.unetMultiplier : l.teMultiplier);
  return set
    .filter((l) => mult(l) !== 0 && l.parts.has(part))
    .sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : mult(a) - mult(b)));
}

/** Checkpoint keys of `part` that the networks modify, sorted. */
export function touchedKeys(set: readonly AppliedLora[], part: LoraPart): string[] {
  const keys = new Set<string>();
  for (const l of set) for (const k of l.network.modules.keys()) if (partOfKey(k) === part) keys.add(splitTarget(k).key);
  return [...keys].sort();
}

type ModuleEntry = LoraNetwork['modules'] extends Map<string, infer V> ? V : never;

/** The modules that change `key`: on the whole weight, or on a third of its rows (q/k/v of an in_proj). */
function entriesFor(network: LoraNetwork, key: string): { entry: ModuleEntry; third: number }[] {
  const out: { entry: ModuleEntry; third: number }[] = [];
  const whole = network.modules.get(key);
  if (whole) out.push({ entry: whole, third: 0 });
  SLICE_SUFFIXES.forEach((s, i) => {
    const e = network.modules.get(key + s);
    if (e) out.push({ entry: e, third: i + 1 });
  });
  return out;
}

/** Adds a module's delta to the whole weight or to one third of its rows. */
async function addDelta(w: Float32Array, shape: readonly number[], third: number, delta: (shape: readonly number[]) => Float32Array | Promise<Float32Array>): Promise<void> {
  if (third === 0) {
    addInPlace(w, await delta(shape));
    return;
  }
  const rows = shape[0]! / 3;
  const sliceShape = [rows, ...shape.slice(1)];
  const n = w.length / 3;
  addInPlace(w.subarray((third - 1) * n, third * n), await delta(sliceShape));
}

/**
 * `w` (the checkpoint tensor `key` of shape `shape`) with every network's delta added, in `set` order.
 * `w` is modified in place and returned.
 */
export function mergeWeight(key: string, w: Float32Array, shape: readonly number[], set: readonly AppliedLora[]): Float32Array {
  for (const l of set) {
    const mult = multiplierFor(l, key);
    if (mult === 0) continue;
    for (const { entry, third } of entriesFor(l.network, key)) {
      const sub = third === 0 ? w : w.subarray(((third - 1) * w.length) / 3, (third * w.length) / 3);
      const subShape = third === 0 ? shape : [shape[0]! / 3, ...shape.slice(1)];
      addInPlace(sub, moduleDelta(entry.module, subShape, mult, `${l.network.name}: ${entry.moduleName}`));
    }
  }
  return w;
}

/** mergeWeight with the LoRA products done by `matmul` (ONNX Runtime for full-size models). */
export async function mergeWeightWith(
  key: string,
  w: Float32Array,
  shape: readonly number[],
  set: readonly AppliedLora[],
  matmul: (a: Tensor, b: Tensor) => Promise<Tensor>,
): Promise<Float32Array> {
  for (const l of set) {
    const mult = multiplierFor(l, key);
    if (mult === 0) continue;
    for (const { entry, third } of entriesFor(l.network, key)) {
      await addDelta(w, shape, third, (s) => moduleDeltaWith(entry.module, s, mult, `${l.network.name}: ${entry.moduleName}`, matmul));
    }
  }
  return w;
}
