import { describe, expect, it } from 'vitest';
import { fileNameFromDisposition, sanitizeModelFileName } from './file-names.js';

describe('sanitizeModelFileName', () => {
  it.each([
    ['model.safetensors', 'model.safetensors'],
    ['../../etc/evil.safetensors', 'evil.safetensors'],
    ['..\\..\\win\\evil.ckpt', 'evil.ckpt'],
    ['.hidden.safetensors', 'hidden.safetensors'],
    ['...  spaced.pt', 'spaced.pt'],
    ['a:b?c*.safetensors', 'a_b_c_.safetensors'],
    ['bad\u0000name.bin', 'bad_name.bin'],
  ])('%j → %j', (raw, want) => expect(sanitizeModelFileName(raw)).toBe(want));

  it.each(['notes.txt', 'model', '.safetensors', '../', 'x.safetensors.exe'])('refuses %j', (raw) => {
    expect(() => sanitizeModelFileName(raw)).toThrow(expect.objectContaining({ code: 'invalid_params', field: 'filename' }));
  });

  it('shortens very long names and keeps the extension', () => {
    const out = sanitizeModelFileName(`${'x'.repeat(400)}.safetensors`);
    expect(out.length).toBe(200);
    expect(out.endsWith('.safetensors')).toBe(true);
  });
});

describe('fileNameFromDisposition', () => {
  it('reads quoted, bare and RFC 5987 names, the latter winning', () => {
    expect(fileNameFromDisposition('attachment; filename="a b.safetensors"')).toBe('a b.safetensors');
    expect(fileNameFromDisposition('attachment; filename=plain.ckpt')).toBe('plain.ckpt');
    expect(fileNameFromDisposition(`attachment; filename="fallback.pt"; filename*=UTF-8''caf%C3%A9.safetensors`)).toBe('café.safetensors');
    expect(fileNameFromDisposition('inline')).toBeUndefined();
    expect(fileNameFromDisposition(undefined)).toBeUndefined();
  });
});

describe('sanitizeModelFileName byte limit', () => {
  it('counts bytes, not characters, and never splits a character', () => {
    const out = sanitizeModelFileName(`${'é'.repeat(300)}.ckpt`);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(200);
    expect(out).toMatch(/^é+\.ckpt$/);
  });
});
