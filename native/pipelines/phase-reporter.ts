// Turns what the engine does into the phases a job reports (worker-protocol JobPhase): the
// pipeline says encoding / sampling / decoding, the generation service says loading_model when it
// opens or switches a checkpoint, and a model part that creates a session on first use (any
// phase) shows as loading_model with its stage until it is ready, then the phase it interrupted
// comes back.
import type { JobPhase } from '../worker-protocol.js';
import type { PartLoadEvent } from '../runtime/load-events.js';

export type PhaseEmitter = (phase: JobPhase, info?: { fraction?: number; detail?: string }) => void;

const PART_NAMES: Record<string, string> = {
  'text-encoder': 'text encoder',
  'text-encoder-2': 'OpenCLIP text encoder',
  unet: 'UNet',
  'unet-context': 'UNet prompt projections',
  'vae-decoder': 'VAE decoder',
  'vae-encoder': 'VAE encoder',
};
const STAGE_NAMES: Record<PartLoadEvent['stage'], string> = {
  graph: 'building the graph',
  weights: 'reading and converting weights',
  session: 'creating the session',
  ready: 'ready',
};

export class PhaseReporter {
  private current: { phase: JobPhase; detail?: string } | undefined;

  constructor(private readonly emit: PhaseEmitter) {}

  /** The phase the job is in now (the last one set, not an interrupting load). */
  get phase(): JobPhase | undefined {
    return this.current?.phase;
  }

  set(phase: JobPhase, info: { fraction?: number; detail?: string } = {}): void {
    this.current = { phase, ...(info.detail ? { detail: info.detail } : {}) };
    this.emit(phase, info);
  }

  /** A session being created: loading_model with the part and stage, then back to the phase it interrupted. */
  partLoad(e: PartLoadEvent): void {
    const name = PART_NAMES[e.part] ?? e.part;
    this.emit('loading_model', { fraction: e.fraction, detail: `${name}: ${STAGE_NAMES[e.stage]}` });
    if (e.stage === 'ready' && this.current && this.current.phase !== 'loading_model') {
      this.emit(this.current.phase, this.current.detail ? { detail: this.current.detail } : {});
    }
  }
}
