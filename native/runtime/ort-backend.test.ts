import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph/builder.js';
import { CUDA_UNAVAILABLE_MESSAGE } from './engine-error.js';
import { createEngineRuntime, cudaProviderInstalled } from './ort-backend.js';
import { materializeWeights, memoryWeightSource } from './weights.js';

describe('createEngineRuntime', () => {
  it('defaults to CPU in fp32', async () => {
    const rt = await createEngineRuntime();
    expect(rt.device).toBe('cpu');
    expect(rt.precision).toBe('fp32');
  });

  // This machine has no CUDA provider library (onnxruntime-node was installed without cuda12).
  it('asking for CUDA without its provider gives the coded error, not a crash', async () => {
    expect(cudaProviderInstalled()).toBe(false);
    const err = await createEngineRuntime({ device: 'cuda' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'cuda_unavailable', message: expect.stringContaining(CUDA_UNAVAILABLE_MESSAGE) });
    expect(CUDA_UNAVAILABLE_MESSAGE).toBe(
      'CUDA execution provider is not available: install onnxruntime-node with --onnxruntime-node-install=cuda12 on a machine with CUDA 12 and cuDNN 9',
    );
    // and the process still runs sessions on the CPU afterwards
    const rt = await createEngineRuntime({ device: 'cpu' });
    const g = new GraphBuilder({ name: 'after-cuda' });
    g.output(g.op('Mul', [g.input('x', 'float32', [2]), g.scalar(3)]), 'y');
    const built = g.build();
    const s = await rt.createSession(built, []);
    expect(Array.from((await s.run({ x: { dtype: 'float32', data: new Float32Array([1, 2]), dims: [2] } })).y)).toEqual([3, 6]);
    await s.dispose();
  });

  it('reports session creation and run failures with codes', async () => {
    const rt = await createEngineRuntime();
    const g = new GraphBuilder({ name: 'needs-weights' });
    const x = g.input('x', 'float32', [2]);
    g.output(g.op('Add', [x, g.weight('w', { shape: [2] })]), 'y');
    const built = g.build();
    await expect(rt.createSession(built, [])).rejects.toMatchObject({ code: 'session_failed' });
    const ext = await materializeWeights(built, memoryWeightSource({ w: { shape: [2], data: new Float32Array([10, 20]) } }));
    const s = await rt.createSession(built, ext);
    expect(Array.from((await s.run({ x: { dtype: 'float32', data: new Float32Array([1, 2]), dims: [2] } })).y)).toEqual([11, 22]);
    await expect(s.run({ x: { dtype: 'float32', data: new Float32Array([1, 2, 3]), dims: [3] } })).rejects.toMatchObject({ code: 'run_failed' });
    await s.dispose();
    await expect(s.run({ x: { dtype: 'float32', data: new Float32Array([1, 2]), dims: [2] } })).rejects.toMatchObject({ code: 'disposed' });
  });
});
