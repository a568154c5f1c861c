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

  it('names every model part of an SD1 or SDXL model in words', () => {
    const details: string[] = [];
    const r = new PhaseReporter((_phase, info) => details.push(info?.detail ?? ''));
    for (const part of ['text-encoder', 'text-encoder-2', 'unet', 'unet-context', 'vae-decoder', 'vae-encoder']) r.partLoad({ part, stage: 'graph', fraction: 0 });
    expect(details).toEqual([
      'text encoder: building the graph',
      'OpenCLIP text encoder: building the graph',
      'UNet: building the graph',
      'UNet prompt projections: building the graph',
      'VAE decoder: building the graph',
      'VAE encoder: building the graph',
    ]);
  });

  it('a load during the model load itself does not repeat loading_model', () => {
    const phases: JobPhase[] = [];
    const r = new PhaseReporter((phase) => phases.push(phase));
    r.set('loading_model', { fraction: 0, detail: 'loading x.safetensors' });
    r.partLoad({ part: 'text-encoder', stage: 'ready', fraction: 1 });
    expect(phases).toEqual(['loading_model', 'loading_model']);
  });
});
