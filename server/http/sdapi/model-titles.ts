// How A1111 names checkpoints, and finding an Easel registry entry by any of those names: the
// title `sub/name.safetensors [shorthash]`, the file name with or without extension, A1111's
// `model_name` (folders joined by `_`), the 10-hex short hash, the legacy 8-hex prefix or the full
// sha256 (A1111's `checkpoint_aliases`).
import { join } from 'node:path';
import type { ModelEntry } from '../../protocol/actions.js';

const EXT = /\.[A-Za-z0-9]+$/;

/** `name.safetensors [0123456789]`, or the bare name while the hash is still being computed. */
export function checkpointTitle(m: ModelEntry): string {
  return m.short_hash ? `${m.name} [${m.short_hash}]` : m.name;
}

/** A1111 `model_name`: the relative path without extension, folders joined by `_`. */
export function checkpointModelName(m: ModelEntry): string {
  return m.name.replace(EXT, '').replace(/[\\/]/g, '_');
}

/** One `/sdapi/v1/sd-models` entry. */
export function sdModelEntry(m: ModelEntry, modelsDir: string) {
  return {
    title: checkpointTitle(m),
    model_name: checkpointModelName(m),
    hash: m.short_hash ?? null,
    sha256: m.sha256 ?? null,
    filename: join(modelsDir, 'checkpoints', m.name),
    config: null,
  };
}

/**
 * The entry a user's checkpoint name means, or undefined.
 *
 * @example findCheckpoint(models, 'tiny.safetensors [0123456789]')
 */
export function findCheckpoint(models: readonly ModelEntry[], wanted: string): ModelEntry | undefined {
  const w = wanted.trim();
  if (w === '') return undefined;
  const bare = w.replace(/\s*\[[0-9a-fA-F]+\]$/, '');
  const hex = /^[0-9a-fA-F]{8,64}$/.test(w) ? w.toLowerCase() : undefined;
  return (
    models.find((m) => checkpointTitle(m) === w || m.name === w || m.name === bare) ??
    models.find((m) => {
      const file = m.name.split('/').pop() ?? m.name;
      return m.name.replace(EXT, '') === bare || checkpointModelName(m) === bare || file === bare || file.replace(EXT, '') === bare;
    }) ??
    (hex ? models.find((m) => m.short_hash === hex || (m.sha256 ?? '').startsWith(hex)) : undefined)
  );
}

/** A VAE entry by file name, with or without extension. */
export function findVae(models: readonly ModelEntry[], wanted: string): ModelEntry | undefined {
  return models.find((m) => m.name === wanted || m.name.replace(EXT, '') === wanted || m.name.split('/').pop() === wanted);
}
