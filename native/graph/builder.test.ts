import { afterAll, describe, expect, it } from 'vitest';
import { float, GraphBuilder } from './builder.js';
import { createEngineRuntime } from '../runtime/ort-backend.js';
import type { EngineSession } from '../runtime/ort-backend.js';
import { materializeWeights, memoryWeightSource } from '../runtime/weights.js';

const sessions: EngineSession[] = [];
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.dispose()));
});

describe('GraphBuilder', () => {
  it('infers static shapes and names nodes after checkpoint keys', () => {
    const g = new GraphBuilder({ name: 't' });
    const x = g.input('x', 'float32', [2, 4, 9, 7]);
    const w = g.weight('blk.conv.weight', { shape: [8, 4, 3, 3] });
    const y = g.op('Conv', [x, w], { pads: [1, 1, 1, 1], strides: [2, 2] }, { name: 'blk.conv' });
    expect(y.shape).toEqual([2, 8, 5, 4]);
    const r = g.op('Reshape', [y, g.ints([2, 8, -1])]);
    expect(r.shape).toEqual([2, 8, 20]);
    const t = g.op('Transpose', [r], { perm: [0, 2, 1] });
    expect(t.shape).toEqual([2, 20, 8]);
    const [a, b] = g.opN('Split', [t, g.ints([3, 5])], { axis: -1 }, { outputs: 2 });
    expect([a.shape, b.shape]).toEqual([
      [2, 20, 3],
      [2, 20, 5],
    ]);
    g.output(a, 'a');
    const built = g.build();
    expect(built.opCounts).toMatchObject({ Conv: 1, Reshape: 1, Transpose: 1, Split: 1 });
    expect(new TextDecoder('latin1').decode(built.model)).toContain('blk.conv');
  });

  it('fails while building, naming the node, when shapes do not fit', () => {
    const g = new GraphBuilder({ name: 't' });
    const x = g.input('x', 'float32', [1, 3, 8, 8]);
    const w = g.weight('c.weight', { shape: [4, 5, 3, 3] });
    expect(() => g.op('Conv', [x, w], {}, { name: 'c' })).toThrow(expect.objectContaining({ code: 'graph_shape_mismatch', message: expect.stringContaining('Conv c') }));
    expect(() => g.op('Add', [x, g.input('y', 'float32', [2, 8])])).toThrow(expect.objectContaining({ code: 'graph_shape_mismatch' }));
    expect(() => g.op('Reshape', [x, g.ints([5, -1])])).toThrow(expect.objectContaining({ code: 'graph_shape_mismatch' }));
    expect(() => g.op('NoSuchOp', [x])).toThrow(expect.objectContaining({ code: 'graph_unknown_op' }));
    expect(() => g.op('LayerNormalization', [x], { epsilon: 1e-5 })).toThrow(expect.objectContaining({ code: 'graph_bad_attribute' }));
    expect(() => g.input('x', 'float32', [1])).toThrow(expect.objectContaining({ code: 'graph_duplicate_name' }));
  });

  it('checks weights against the checkpoint shapes', () => {
    const shapes: Record<string, number[]> = { 'a.weight': [4, 6], 'b.weight': [6] };
    const g = new GraphBuilder({ name: 't', weightShape: (k) => shapes[k] });
    expect(g.weight('a.weight', { transpose: true }).shape).toEqual([6, 4]);
    expect(g.weight('b.weight', { shape: [6, 1, 1] }).shape).toEqual([6, 1, 1]);
    expect(() => g.weight('c.weight')).toThrow(expect.objectContaining({ code: 'graph_missing_weight' }));
    expect(() => g.weight('b.weight', { transpose: true })).toThrow(expect.objectContaining({ code: 'graph_duplicate_name' }));
    const g2 = new GraphBuilder({ name: 't', weightShape: (k) => shapes[k] });
    expect(() => g2.weight('b.weight', { shape: [7] })).toThrow(expect.objectContaining({ code: 'graph_shape_mismatch' }));
    // Winograd forms: [O, C, 3, 3] -> [(m+2)², O, C]; other kernels are refused; one layout per key
    const conv: Record<string, number[]> = { 'k.weight': [5, 3, 3, 3], 'p.weight': [5, 3, 1, 1] };
    const g3 = new GraphBuilder({ name: 't', weightShape: (k) => conv[k] });
    expect(g3.checkpointShape('k.weight')).toEqual([5, 3, 3, 3]);
    expect(g3.weight('k.weight', { winograd: 4 }).shape).toEqual([36, 5, 3]);
    expect(() => g3.weight('k.weight')).toThrow(expect.objectContaining({ code: 'graph_duplicate_name' }));
    expect(() => g3.weight('p.weight', { winograd: 2 })).toThrow(expect.objectContaining({ code: 'graph_shape_mismatch' }));
  });

  it('splits external data over several files without splitting a tensor, and ORT reads them all', async () => {
    const n = 100; // 400 bytes per tensor
    const g = new GraphBuilder({ name: 'split', maxExternalFileBytes: 1000 });
    const x = g.input('x', 'float32', [n]);
    let y = x;
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (let i = 0; i < 5; i++) {
      const key = `w${i}`;
      tensors[key] = { shape: [n], data: Float32Array.from({ length: n }, (_, j) => (i + 1) * 1000 + j) };
      y = g.op('Add', [y, g.weight(key, { shape: [n] })]);
    }
    y = g.op('Mul', [y, g.scalar(0.5)]);
    g.output(y, 'y');
    const built = g.build();
    expect(built.externalFiles.length).toBe(3); // 2 + 2 + 1 tensors (64-byte aligned offsets)
    for (const w of built.weights) expect(w.offset % 64).toBe(0);
    for (const f of built.externalFiles) expect(f.byteLength).toBeLessThanOrEqual(1000);
    const rt = await createEngineRuntime();
    const s = await rt.createSession(built, await materializeWeights(built, memoryWeightSource(tensors)));
    sessions.push(s);
    const out = (await s.run({ x: { dtype: 'float32', data: new Float32Array(n).fill(2), dims: [n] } })).y;
    for (let j = 0; j < n; j++) expect(out[j]).toBe((2 + 15000 + 5 * j) * 0.5);
  });

  it('writes float attributes as FLOAT and refuses unwrapped non-integers', async () => {
    const g = new GraphBuilder({ name: 'ln' });
    const x = g.input('x', 'float32', [1, 4]);
    const ones = g.constant('float32', [4], [1, 1, 1, 1]);
    const zeros = g.constant('float32', [4], [0, 0, 0, 0]);
    g.output(g.op('LayerNormalization', [x, ones, zeros], { axis: -1, epsilon: float(0.5) }), 'y');
    const rt = await createEngineRuntime();
    const s = await rt.createSession(g.build(), []);
    sessions.push(s);
    const y = (await s.run({ x: { dtype: 'float32', data: new Float32Array([1, 2, 3, 4]), dims: [1, 4] } })).y;
    // mean 2.5, variance 1.25; with eps 0.5: (x - 2.5) / sqrt(1.75)
    expect(y[0]).toBeCloseTo(-1.5 / Math.sqrt(1.75), 5);
  });
});
