// Turns a zod schema into a fast-check arbitrary through its JSON Schema (z.toJSONSchema): values
// that mostly pass validation, so the fuzzer reaches the handlers and not only the validators,
// then a mutation layer that breaks them one field at a time. Fields zod cannot express in JSON
// Schema (image bytes) get real, truncated and garbage images. Any https URL is pointed at a
// private address literal, which the download guard refuses before connecting: nothing leaves the
// machine during a fuzz run.
import fc, { type Arbitrary } from 'fast-check';
import { z } from 'zod';

type Json = { [k: string]: unknown };

export interface SchemaFuzzOptions {
  /** Values for fields JSON Schema cannot describe (`{}`): images. */
  opaque: Arbitrary<unknown>;
}

const STRING_CAP = 48;
const ARRAY_CAP = 4;

/** Any https URL host → a private address literal (refused by the download guard without a connection). */
export function defuseUrls(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/^https:\/\/[^/?#\s]*/i, 'https://10.255.255.1');
  if (Array.isArray(value)) return value.map(defuseUrls);
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, defuseUrls(v)]));
  return value;
}

function stringArb(s: Json): Arbitrary<string> {
  const min = typeof s['minLength'] === 'number' ? s['minLength'] : 0;
  const max = Math.max(min, Math.min(typeof s['maxLength'] === 'number' ? s['maxLength'] : STRING_CAP, STRING_CAP + min));
  if (typeof s['pattern'] === 'string') {
    const re = new RegExp(s['pattern'], 'u');
    return fc.stringMatching(re, { size: 'small' }).filter((v) => v.length >= min && v.length <= (typeof s['maxLength'] === 'number' ? s['maxLength'] : Infinity));
  }
  return fc.string({ minLength: min, maxLength: max, unit: fc.oneof(fc.constant('a'), fc.string({ minLength: 1, maxLength: 1 }), fc.constantFrom(' ', '(', ':', '<', '>', '\\', '\u00e9', '\u{1f600}')) });
}

function numberArb(s: Json, integer: boolean): Arbitrary<number> {
  const lo = typeof s['minimum'] === 'number' ? s['minimum'] : typeof s['exclusiveMinimum'] === 'number' ? s['exclusiveMinimum'] + (integer ? 1 : 1e-9) : -1e6;
  const hi = typeof s['maximum'] === 'number' ? s['maximum'] : typeof s['exclusiveMaximum'] === 'number' ? s['exclusiveMaximum'] - (integer ? 1 : 1e-9) : 1e6;
  // Huge integer ranges (safe-integer bounds) are narrowed to where real values live, plus the ends.
  const min = Math.max(lo, -(2 ** 32));
  const max = Math.min(hi, 2 ** 32);
  const inner = integer ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) }) : fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  const small = integer ? fc.integer({ min: Math.max(Math.ceil(min), -8), max: Math.min(Math.floor(max), 1024) }) : inner;
  return fc.oneof({ weight: 3, arbitrary: small }, { weight: 2, arbitrary: inner }, { weight: 1, arbitrary: fc.constantFrom(integer ? Math.ceil(lo) : lo, integer ? Math.floor(hi) : hi) });
}

/** The arbitrary of one JSON Schema node. */
export function fromJsonSchema(node: unknown, opts: SchemaFuzzOptions): Arbitrary<unknown> {
  const s = (node ?? {}) as Json;
  if ('const' in s) return fc.constant(s['const']);
  if (Array.isArray(s['enum'])) return fc.constantFrom(...(s['enum'] as unknown[]));
  const alts = (s['anyOf'] ?? s['oneOf']) as unknown[] | undefined;
  if (Array.isArray(alts)) return fc.oneof(...alts.map((a) => fromJsonSchema(a, opts)));
  switch (s['type']) {
    case 'string':
      return stringArb(s);
    case 'integer':
      return numberArb(s, true);
    case 'number':
      return numberArb(s, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = typeof s['minItems'] === 'number' ? s['minItems'] : 0;
      const maxLength = Math.max(minLength, Math.min(typeof s['maxItems'] === 'number' ? s['maxItems'] : ARRAY_CAP, ARRAY_CAP));
      return fc.array(fromJsonSchema(s['items'], opts), { minLength, maxLength });
    }
    case 'object': {
      const props = (s['properties'] ?? {}) as Record<string, unknown>;
      const required = (s['required'] ?? []) as string[];
      const model = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, fromJsonSchema(v, opts)]));
      return fc.record(model, { requiredKeys: required.filter((k) => k in props) });
    }
    default:
      // `{}`: what zod could not describe (bytes, transforms): the caller's opaque values.
      return opts.opaque;
  }
}

/** Breaks a valid-looking payload: a field replaced with junk, a required field dropped, an unknown field, or no object at all. */
function mutate(base: Arbitrary<unknown>): Arbitrary<unknown> {
  const junk = fc.anything({ maxDepth: 2, withTypedArray: true, withBigInt: false, withNullPrototype: true });
  return fc.oneof(
    fc.tuple(base, fc.nat(), junk).map(([v, i, j]) => {
      if (!v || typeof v !== 'object' || Array.isArray(v)) return j;
      const keys = Object.keys(v);
      if (keys.length === 0) return { ...v, zz_extra: j };
      return { ...v, [keys[i % keys.length]!]: j };
    }),
    fc.tuple(base, fc.nat()).map(([v, i]) => {
      if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
      const keys = Object.keys(v);
      if (keys.length === 0) return v;
      const copy = { ...(v as Json) };
      delete copy[keys[i % keys.length]!];
      return copy;
    }),
    fc.tuple(base, fc.string({ minLength: 1, maxLength: 8 })).map(([v, k]) => (v && typeof v === 'object' && !Array.isArray(v) ? { ...v, [`zz_${k}`]: 1 } : v)),
    junk,
  );
}

/**
 * Payloads for one zod schema: 60% generated from the schema, 40% of them broken on purpose.
 *
 * @example fc.sample(payloadArbitrary(schemas.generate, { opaque }), { numRuns: 100, seed })
 */
export function payloadArbitrary(schema: z.ZodType, opts: SchemaFuzzOptions): Arbitrary<unknown> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  const base = fromJsonSchema(json, opts);
  return fc.oneof({ weight: 3, arbitrary: base }, { weight: 2, arbitrary: mutate(base) }).map(defuseUrls);
}
