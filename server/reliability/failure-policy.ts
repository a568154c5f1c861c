// What the server does with a failure it did not expect, in one place: a full disk becomes a coded
// `insufficient_space` (and stops new work through the DiskGuard), and messages lose the absolute
// paths of DATA_DIR and MODELS_DIR before they reach a client.
import { EaselError } from '../protocol/errors.js';
import type { DiskGuard } from './disk-guard.js';
import { pathRedactor } from './path-redaction.js';

export interface FailurePolicy {
  /** A coded error for a failure we recognise (full disk), else undefined. */
  classify(err: unknown): EaselError | undefined;
  /** The message with server paths shown relative to DATA_DIR / MODELS_DIR. */
  redact(text: string): string;
}

/**
 * @example const failures = failurePolicy({ guard, dataDir: config.dataDir, modelsDir: config.modelsDir })
 */
export function failurePolicy(o: { guard: DiskGuard; dataDir: string; modelsDir: string }): FailurePolicy {
  const redact = pathRedactor({ DATA_DIR: o.dataDir, MODELS_DIR: o.modelsDir });
  return {
    classify: (err) => {
      const coded = o.guard.classify(err);
      return coded ? new EaselError(coded.code, redact(coded.message)) : undefined;
    },
    redact,
  };
}
