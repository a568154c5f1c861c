import { describe, expect, it } from 'vitest';
import type { JobPhase } from '../worker-protocol.js';
import { PhaseReporter } from './phase-reporter.js';

describe('PhaseReporter', () => {
  it('shows a session load as loading_model with the part and stage, then the phase it interrupted', () => {
    const out: { phase: JobPhase; fraction?: number; detail?: string }[] = [];
    const r = new PhaseReporter((phase, info) => out.push({ phase, ...info }));
    r.set('sampling');
    r.partLoad({ part: 'unet', stage: 'weights', fraction: 0.05 });
    r.partLoad({ part: 'unet', stage: 'session', fraction: 0.5 });
    r.partLoad({ part: 'unet', stage: 'ready', fraction: 1 });
    r.set('decoding');
    expect(out).toEqual([
      { phase: 'sampling' },
      { phase: 'loading_model', fraction: 0.05, detail: 'UNet: reading and converting weights' },
      { phase: 'loading_model', fraction: 0.5, detail: 'UNet: creating the session' },
      { phase: 'loading_model', fraction: 1, detail: 'UNet: ready' },
      { phase: 'sampling' },
      { phase: 'decoding' },
    ]);
    expect(r.phase).toBe('decoding');
  });

  it('a load during the model load itself does not repeat loading_model', () => {
    const phases: JobPhase[] = [];
    const r = new PhaseReporter((phase) => phases.push(phase));
    r.set('loading_model', { fraction: 0, detail: 'loading x.safetensors' });
    r.partLoad({ part: 'text-encoder', stage: 'ready', fraction: 1 });
    expect(phases).toEqual(['loading_model', 'loading_model']);
  });
});
