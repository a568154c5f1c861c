// The error type of the sampling layer (seeds, schedules, samplers, guidance). Codes are stable;
// messages say what was expected and what was found.

export type SamplingErrorCode =
  | 'bad_seed'
  | 'bad_steps'
  | 'bad_schedule'
  | 'bad_shape'
  | 'unknown_sampler'
  | 'unknown_scheduler'
  | 'noise_sampler_missing'
  | 'aborted';

export class SamplingError extends Error {
  override readonly name = 'SamplingError';
  constructor(
    readonly code: SamplingErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Thrown before a model call when the run's AbortSignal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SamplingError('aborted', 'sampling was cancelled');
}
