// Decoders for the literal forms inside a pickle stream: little-endian two's-complement longs
// (LONG1 / LONG4), Python 2 `repr()` string literals (STRING), raw-unicode-escape text (UNICODE)
// and UTF-8 strings. Pure functions; the interpreter in pickle-vm.ts supplies the error factory.

/** Little-endian two's complement (LONG1 / LONG4). */
export function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let x = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(bytes[i]);
  if (bytes[bytes.length - 1] & 0x80) x -= 1n << BigInt(8 * bytes.length);
  return normalizeInt(x);
}

export function normalizeInt(x: bigint): number | bigint {
  return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
}

const utf8Decoder = new TextDecoder('utf-8');
export function utf8(bytes: Uint8Array): string {
  // torch.load decodes Python 2 str with utf-8 too; invalid sequences become U+FFFD rather than failing the file
  return utf8Decoder.decode(bytes);
}

/** Protocol 0 UNICODE: latin-1 bytes with \uXXXX and \UXXXXXXXX escapes. */
export function rawUnicodeEscape(bytes: Uint8Array, bad: (m: string) => Error): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === 0x5c && i + 1 < bytes.length && (bytes[i + 1] === 0x75 || bytes[i + 1] === 0x55)) {
      const n = bytes[i + 1] === 0x75 ? 4 : 8;
      const hexText = String.fromCharCode(...bytes.subarray(i + 2, i + 2 + n));
      if (hexText.length !== n || !/^[0-9a-fA-F]+$/.test(hexText)) throw bad('bad \\u escape in UNICODE');
      const cp = parseInt(hexText, 16);
      if (cp > 0x10ffff) throw bad('code point out of range in UNICODE');
      s += String.fromCodePoint(cp);
      i += 1 + n;
    } else {
      s += String.fromCharCode(c);
    }
  }
  return s;
}

const SIMPLE_ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' };

/** Protocol 0 STRING: a repr()-quoted literal. */
export function unescapeStringLiteral(line: string, bad: (m: string) => Error): string {
  const q = line[0];
  if (line.length < 2 || (q !== "'" && q !== '"') || line[line.length - 1] !== q) throw bad('STRING literal is not quoted');
  const body = line.slice(1, -1);
  let s = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      s += c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) throw bad('STRING literal ends in a backslash');
    if (e === 'x') {
      const h = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) throw bad('bad \\x escape in STRING');
      s += String.fromCharCode(parseInt(h, 16));
      i += 2;
    } else if (SIMPLE_ESCAPES[e] !== undefined) {
      s += SIMPLE_ESCAPES[e];
    } else {
      s += `\\${e}`;
    }
  }
  return s;
}
