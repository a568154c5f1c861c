import { describe, expect, it } from 'vitest';
import { progressPatch } from '../data/jobs.js';
import { describePhase } from './job-phase.js';

const base = { position: null, step: 0, total: 0, phaseProgress: null, detail: null } as const;

describe('the phase line', () => {
  it('says what the server is doing in one line', () => {
    expect(describePhase({ ...base, serverPhase: 'queued', position: 2 })).toBe('Waiting in the queue · position 2');
    expect(describePhase({ ...base, serverPhase: 'loading_model', phaseProgress: 0.5, detail: 'UNet: creating the session' })).toBe('Loading the model: UNet: creating the session · 50 %');
    expect(describePhase({ ...base, serverPhase: 'encoding' })).toBe('Encoding the prompt');
    expect(describePhase({ ...base, serverPhase: 'sampling', step: 3, total: 20 })).toBe('Sampling · step 3/20');
    expect(describePhase({ ...base, serverPhase: 'decoding' })).toBe('Decoding the image');
    expect(describePhase({ ...base, serverPhase: 'saving' })).toBe('Saving to the gallery');
    expect(describePhase({ ...base, serverPhase: undefined })).toBe('');
  });

  it('a queued progress event keeps the job queued; a running one moves it on', () => {
    expect(progressPatch({ job_id: 'j', step: 0, total: 0, status: 'queued', phase: 'queued', position: 3, eta_s: 40 })).toEqual({
      phase: 'queued',
      position: 3,
      serverPhase: 'queued',
      phaseProgress: null,
      detail: null,
      etaS: 40,
    });
    expect(progressPatch({ job_id: 'j', step: 2, total: 4, status: 'running', phase: 'sampling', phase_progress: 0.5 })).toMatchObject({
      phase: 'running',
      step: 2,
      total: 4,
      serverPhase: 'sampling',
      phaseProgress: 0.5,
      etaS: null,
    });
  });
});
