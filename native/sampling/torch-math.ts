// Small numeric helpers that reproduce how torch evaluates a few tensor factories, so schedules
// computed here round exactly like the reference (float32 tensors, float64 Python scalars).

export const f32 = Math.fround;

/**
 * `torch.linspace(start, end, n)` as the CPU kernel computes it: the endpoints are cast to the
 * tensor dtype, `step = (end - start) / (n - 1)`, the first half counts up from `start` and the
 * second half counts down from `end` (so both endpoints are exact).
 *
 * @example linspace(999, 0, 5, 'float32') // [999, 749.25, 499.5, 249.75, 0]
 */
export function linspace(start: number, end: number, n: number, dtype: 'float32' | 'float64'): Float64Array {
  const r = dtype === 'float32' ? f32 : (v: number): number => v;
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = r(start);
    return out;
  }
  const s = r(start);
  const e = r(end);
  const step = r((e - s) / (n - 1));
  const halfway = Math.floor(n / 2);
  for (let i = 0; i < n; i++) {
    out[i] = i < halfway ? r(s + r(step * i)) : r(e - r(step * (n - i - 1)));
  }
  return out;
}
