// A job's progress as clients see it: the phase it is in (queued with its position, loading_model,
// encoding, sampling step by step, decoding, postprocessing, saving), a fraction within the phase
// where it is known, and an ETA for the whole job that counts the phases still ahead. The latest
// snapshot is kept on the Job (`job.progress`) so every view (Socket.IO, REST, SSE,
// /sdapi/v1/progress) reads the same state; `progress` events carry the same object.
//
// ETAs come from what this server has measured: seconds per sampling step (this job's own once it
// has taken a step) and the usual length of every other phase, per job kind, as a moving average.
import type { ProgressEvent } from '../protocol/events.js';
import type { JobKind, JobPhase } from '../protocol/jobs.js';
import type { Job } from './job.js';
import type { JobQueueListener } from './job-queue.js';
import type { Broadcaster } from './job-runner.js';

/** Weight of the newest measurement in the moving averages (recent jobs matter most). */
const EMA_WEIGHT = 0.3;
/** Phases a job of each kind normally goes through after it starts running, in order. */
const RUN_PHASES: Record<JobKind, readonly JobPhase[]> = {
  generate: ['encoding', 'sampling', 'decoding', 'postprocessing', 'saving'],
  upscale: ['postprocessing', 'saving'],
  adetailer: ['postprocessing', 'saving'],
};

const round1 = (s: number): number => Math.round(s * 10) / 10;

/** Learned durations, shared by every job of one server process. */
export class PhaseTimings {
  private readonly phaseSeconds = new Map<string, number>();
  private readonly jobSeconds = new Map<JobKind, number>();
  private stepSeconds: number | undefined;

  private static ema(old: number | undefined, value: number): number {
    return old === undefined ? value : old + EMA_WEIGHT * (value - old);
  }

  recordPhase(kind: JobKind, phase: JobPhase, seconds: number): void {
    const key = `${kind}:${phase}`;
    this.phaseSeconds.set(key, PhaseTimings.ema(this.phaseSeconds.get(key), seconds));
  }

  recordStep(seconds: number): void {
    this.stepSeconds = PhaseTimings.ema(this.stepSeconds, seconds);
  }

  recordJob(kind: JobKind, seconds: number): void {
    this.jobSeconds.set(kind, PhaseTimings.ema(this.jobSeconds.get(kind), seconds));
  }

  phase(kind: JobKind, phase: JobPhase): number | undefined {
    return this.phaseSeconds.get(`${kind}:${phase}`);
  }

  get step(): number | undefined {
    return this.stepSeconds;
  }

  job(kind: JobKind): number | undefined {
    return this.jobSeconds.get(kind);
  }
}

/** Sampler steps a generate job will take, from its parameters (before the worker says). */
function plannedSteps(job: Job): number {
  const p = job.params;
  const steps = typeof p.steps === 'number' ? p.steps : 20;
  const iters = typeof p.n_iter === 'number' ? p.n_iter : 1;
  return steps * iters;
}

export interface PhaseUpdateIn {
  phase: JobPhase;
  fraction?: number;
  detail?: string;
}

/**
 * Follows one running job: turns the worker's step and phase messages into progress events,
 * stores the latest on the job, and feeds the shared timings when phases end.
 *
 * @example const t = new JobProgressTracker(job, timings, (e) => events.toClient(job.clientId, 'progress', e)); t.update(3, 20)
 */
export class JobProgressTracker {
  private phase: JobPhase;
  /** The last phase entered other than loading_model (a mid-job session load interrupts it). */
  private lastReal: JobPhase | undefined;
  private detail: string | undefined;
  private fraction: number | undefined;
  private phaseStarted: number;
  private segmentSteps = 0;
  private step = 0;
  private total = 0;
  private readonly started: number;
  /** Seconds spent so far per phase (a phase interrupted by a load adds up its pieces). */
  private readonly spent = new Map<JobPhase, number>();
  private sampledSteps = 0;

  constructor(
    private readonly job: Job,
    private readonly timings: PhaseTimings,
    private readonly emit: (e: ProgressEvent) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
    this.phaseStarted = this.started;
    // Until the worker says otherwise: a generate job samples, other kinds post-process.
    this.phase = job.kind === 'generate' ? 'sampling' : 'postprocessing';
  }

  /** A step message from the worker, with the phase it reported (if any). */
  update(step: number, total: number, phase?: PhaseUpdateIn): void {
    this.step = step;
    this.total = total;
    if (phase) this.enter(phase.phase, phase);
    else {
      // A pipeline that reports only steps: its steps are the phase's progress.
      if (this.phase === 'loading_model' || this.phase === 'encoding') this.enter(this.job.kind === 'generate' ? 'sampling' : 'postprocessing', {}, false);
      this.fraction = total > 0 ? step / total : undefined;
      this.send();
    }
  }

  /** Enters a phase (also the server's own: saving). Reports it unless `send` is false. */
  enter(phase: JobPhase, info: { fraction?: number; detail?: string } = {}, send = true): void {
    const t = this.now();
    if (phase !== this.phase) {
      this.closePhase(t);
      this.phase = phase;
      this.phaseStarted = t;
      this.segmentSteps = this.step;
      if (phase !== 'loading_model') this.lastReal = phase;
    }
    this.detail = info.detail;
    this.fraction = info.fraction ?? (phase === 'sampling' && this.total > 0 ? this.step / this.total : undefined);
    if (send) this.send();
  }

  /** The job ended well: the length of each of its phases, its step time and its whole length go into the timings. */
  finish(): void {
    const t = this.now();
    this.closePhase(t);
    for (const [phase, seconds] of this.spent) {
      // Loads happen only on a cold or switched model: their length says nothing about the next job.
      if (phase === 'sampling') {
        if (this.sampledSteps > 0) this.timings.recordStep(seconds / this.sampledSteps);
      } else if (phase !== 'loading_model' && phase !== 'queued') this.timings.recordPhase(this.job.kind, phase, seconds);
    }
    this.timings.recordJob(this.job.kind, (t - this.started) / 1000);
  }

  private closePhase(t: number): void {
    this.spent.set(this.phase, (this.spent.get(this.phase) ?? 0) + (t - this.phaseStarted) / 1000);
    if (this.phase === 'sampling') this.sampledSteps += Math.max(0, this.step - this.segmentSteps);
  }

  /** Seconds per sampler step: this job's own once it has stepped, else what past jobs took. */
  private secondsPerStep(t: number): number | undefined {
    const current = this.phase === 'sampling' ? { s: (t - this.phaseStarted) / 1000, n: Math.max(0, this.step - this.segmentSteps) } : { s: 0, n: 0 };
    const steps = this.sampledSteps + current.n;
    if (steps > 0) return ((this.spent.get('sampling') ?? 0) + current.s) / steps;
    return this.timings.step;
  }

  /** Seconds left: what remains of this phase plus the usual length of every phase ahead. */
  eta(t = this.now()): number | undefined {
    const kind = this.job.kind;
    const order = RUN_PHASES[kind];
    const perStep = this.secondsPerStep(t);
    const totalSteps = this.total > 0 ? this.total : plannedSteps(this.job);
    const stepsLeft = Math.max(0, totalSteps - this.step);
    // During a load, the interrupted phase still lies ahead (its rest counts as its usual length).
    const current = this.phase === 'loading_model' ? this.lastReal : this.phase;
    const elapsed = (this.spent.get(current ?? this.phase) ?? 0) + (this.phase === current ? (t - this.phaseStarted) / 1000 : 0);
    let left = 0;
    if (current === 'sampling') {
      if (perStep === undefined) return undefined;
      left = perStep * stepsLeft;
    } else if (current !== undefined && this.phase === current && this.fraction !== undefined && this.fraction > 0) {
      left = (elapsed / this.fraction) * (1 - this.fraction);
    } else if (current !== undefined) {
      left = Math.max(0, (this.timings.phase(kind, current) ?? 0) - elapsed);
    }
    const at = current === undefined ? -1 : order.indexOf(current);
    for (const p of at >= 0 ? order.slice(at + 1) : order) {
      if (p === 'sampling') {
        if (perStep === undefined) return undefined;
        left += perStep * stepsLeft;
      } else left += this.timings.phase(kind, p) ?? 0;
    }
    return round1(left);
  }

  private send(): void {
    const t = this.now();
    const eta = this.eta(t);
    const e: ProgressEvent = {
      job_id: this.job.id,
      step: this.step,
      total: this.total,
      status: 'running',
      phase: this.phase,
      ...(this.fraction !== undefined ? { phase_progress: Math.round(Math.min(1, Math.max(0, this.fraction)) * 1000) / 1000 } : {}),
      ...(this.detail ? { detail: this.detail } : {}),
      ...(eta !== undefined ? { eta_s: eta } : {}),
    };
    this.job.progress = e;
    this.emit(e);
  }
}

/**
 * The progress state of one server: the shared timings and the running job's tracker, so a queued
 * job's ETA can count the time the running one still needs.
 */
export class JobProgressHub {
  readonly timings = new PhaseTimings();
  private running: JobProgressTracker | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** Starts following a job that begins to run; `done` when it ends. */
  track(job: Job, emit: (e: ProgressEvent) => void): { tracker: JobProgressTracker; done: (ok: boolean) => void } {
    const tracker = new JobProgressTracker(job, this.timings, emit, this.now);
    this.running = tracker;
    return {
      tracker,
      done: (ok) => {
        if (ok) tracker.finish();
        if (this.running === tracker) this.running = undefined;
      },
    };
  }

  /** The `progress` event of a job waiting in the queue (ETA: the running job's rest plus the usual job length per place, when known). */
  queued(job: Job, position: number): ProgressEvent {
    const usual = this.timings.job(job.kind);
    const e: ProgressEvent = { job_id: job.id, step: 0, total: 0, status: 'queued', phase: 'queued', position };
    if (usual !== undefined) e.eta_s = round1((this.running?.eta() ?? 0) + usual * position);
    job.progress = e;
    return e;
  }
}

/**
 * Wraps the queue's listener so every queued job also gets a `progress` event with phase
 * `queued`, its position and (when known) an ETA, each time its position changes.
 */
export function withQueuedProgress(listener: JobQueueListener, hub: JobProgressHub, events: Broadcaster, getJob: (id: string) => Job | undefined): JobQueueListener {
  return {
    onStatus: (job) => listener.onStatus(job),
    onPositions(changes, queuedTotal) {
      listener.onPositions(changes, queuedTotal);
      for (const [clientId, entries] of changes) {
        for (const entry of entries) {
          const job = entry.status === 'queued' ? getJob(entry.job_id) : undefined;
          if (job) events.toClient(clientId, 'progress', hub.queued(job, entry.position));
        }
      }
    },
  };
}
