import { describe, expect, it } from 'vitest';
import { ProtoWriter, readVarint } from './protobuf.js';

describe('ProtoWriter', () => {
  it('writes varints as the protobuf spec examples do', () => {
    // https://protobuf.dev/programming-guides/encoding/: 150 -> 96 01, 300 -> ac 02
    expect([...new ProtoWriter().varint(150).finish()]).toEqual([0x96, 0x01]);
    expect([...new ProtoWriter().varint(300).finish()]).toEqual([0xac, 0x02]);
    expect([...new ProtoWriter().varint(0).finish()]).toEqual([0]);
  });

  it('writes negative int64 values as ten-byte two\'s complement', () => {
    const bytes = new ProtoWriter().varint(-1).finish();
    expect([...bytes]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(BigInt.asIntN(64, readVarint(bytes, 0).value)).toBe(-1n);
  });

  it('round-trips large integers', () => {
    for (const v of [2 ** 31, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER, -(2 ** 33)]) {
      const bytes = new ProtoWriter().varint(v).finish();
      expect(BigInt.asIntN(64, readVarint(bytes, 0).value)).toBe(BigInt(v));
    }
  });

  it('prefixes fields with (field << 3 | wire type) and lengths', () => {
    // field 1 varint 150 -> 08 96 01 (the spec's "Test1" message)
    expect([...new ProtoWriter().int(1, 150).finish()]).toEqual([0x08, 0x96, 0x01]);
    // field 2 string "testing" -> 12 07 74 65 73 74 69 6e 67
    expect([...new ProtoWriter().string(2, 'testing').finish()]).toEqual([0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67]);
    // field 3 embedded Test1 -> 1a 03 08 96 01
    expect([...new ProtoWriter().message(3, (m) => m.int(1, 150)).finish()]).toEqual([0x1a, 0x03, 0x08, 0x96, 0x01]);
  });

  it('writes floats as little-endian fixed32 and grows its buffer', () => {
    const w = new ProtoWriter();
    w.float(2, 1.5);
    expect([...w.finish()]).toEqual([0x15, 0x00, 0x00, 0xc0, 0x3f]);
    const big = new ProtoWriter().bytes(1, new Uint8Array(5000).fill(7)).finish();
    expect(big.length).toBe(1 + 2 + 5000);
    expect(big[big.length - 1]).toBe(7);
  });
});
