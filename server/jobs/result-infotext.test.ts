import { describe, expect, it } from 'vitest';
import { toImageMeta, toInfotextParams } from './result-infotext.js';
import type { Job } from './job.js';

const job: Job = {
  id: 'job1',
  kind: 'generate',
  clientId: 'c',
  params: { task: 'img2img', prompt: 'a cat', negative_prompt: 'dog', steps: 30, sampler: 'dpmpp_2m', scheduler: 'karras', cfg_scale: 5, seed: -1, clip_skip: 2, rng: 'cpu', strength: 0.6, model: 'asked.safetensors' },
  priority: 0,
  status: 'running',
  seq: 1,
  createdAt: 0,
  startedAt: 0,
  finishedAt: null,
  error: null,
  imageIds: [],
};
const image = { png: new Uint8Array(), width: 640, height: 448, seed: 123456 };

describe('result infotext', () => {
  it('describes what ran: the image seed and size, and the engine values over the request', () => {
    const p = toInfotextParams(job, image, { model: 'used', model_hash: '0123456789', lora_hashes: [{ name: 'detail', hash: 'abcdefabcdef' }, { bad: 1 }] });
    expect(p).toMatchObject({ prompt: 'a cat', negative_prompt: 'dog', steps: 30, sampler: 'dpmpp_2m', scheduler: 'karras', cfg_scale: 5, seed: 123456, width: 640, height: 448, model: 'used', model_hash: '0123456789', clip_skip: 2, rng: 'cpu', denoising_strength: 0.6 });
    expect(p.loras).toEqual([{ name: 'detail', hash: 'abcdefabcdef' }]);
  });

  it('omits the denoising strength for txt2img', () => {
    expect(toInfotextParams({ ...job, params: { ...job.params, task: 'txt2img' } }, image, {}).denoising_strength).toBeUndefined();
  });

  it('fills the gallery row from the same values', () => {
    expect(toImageMeta(job, image, { model: 'used' })).toEqual({ job_id: 'job1', task: 'img2img', prompt: 'a cat', negative_prompt: 'dog', model: 'used', width: 640, height: 448, seed: 123456, steps: 30, cfg_scale: 5, sampler: 'dpmpp_2m', scheduler: 'karras' });
  });
});
