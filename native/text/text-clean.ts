// The text cleaning CLIP's tokenizer applies before BPE: `ftfy.fix_text` (ftfy 6.1.1, the version
// behind the fixture) followed by CLIP's whitespace collapse. ftfy's steps, in its order and repeated
// until nothing changes: HTML entities (only when the line has no `<`), mojibake repair, C1 controls,
// Latin ligatures, full/half-width forms, curly quotes, line breaks, lone surrogates, terminal
// escapes, control characters, NFC.
//
// Mojibake repair is ftfy's idea in a smaller form: UTF-8 bytes that were decoded as Windows-1252 or
// Latin-1 show up as a lead character (Â..ô) followed by the right number of characters that stand
// for continuation bytes (0x80..0xBF). Text containing such a sequence that re-encodes to valid UTF-8
// is considered damaged; it is re-decoded whole when every character fits the single-byte encoding,
// otherwise sequence by sequence. (ftfy's full "badness" score and its rarer encodings — cp1250/1251,
// MacRoman, cp437, byte A0 restoration — are not reproduced.)

import { HTML_ENTITIES } from './html-entities.js';
import { PY_SPACE } from './python-compat.js';

// Windows-1252 bytes 0x80..0x9F; the five undefined bytes map to the C1 control of the same value,
// which is what ftfy's "sloppy-windows-1252" codec does.
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];
const CP1252_ENCODE = new Map<number, number>();
for (let b = 0; b < 0x100; b++) CP1252_ENCODE.set(b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80] : b, b);

type SingleByteEncoding = 'latin-1' | 'sloppy-windows-1252';

function encodeSingleByte(text: string, encoding: SingleByteEncoding): Uint8Array | undefined {
  const out: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const b = encoding === 'latin-1' ? (cp < 0x100 ? cp : undefined) : CP1252_ENCODE.get(cp);
    if (b === undefined) return undefined;
    out.push(b);
  }
  return Uint8Array.from(out);
}

const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return UTF8_STRICT.decode(bytes);
  } catch {
    return undefined;
  }
}

// Characters that stand for a UTF-8 continuation byte (0x80..0xBF) in Latin-1 or Windows-1252.
const CONTINUATION = `\\x80-\\xbf${CP1252_HIGH.filter((cp) => cp > 0xff).map((cp) => String.fromCharCode(cp)).join('')}`;
const UTF8_SEQUENCE = `(?:[\\xc2-\\xdf][${CONTINUATION}]|[\\xe0-\\xef][${CONTINUATION}]{2}|[\\xf0-\\xf4][${CONTINUATION}]{3})`;
// Adjacent sequences are fixed together; a sequence right after a stray continuation character is part
// of a larger garble and left alone (ftfy does the same).
const UTF8_DETECTOR_RE = new RegExp(`(?<![${CONTINUATION}])${UTF8_SEQUENCE}+`, 'gu');
const C1_RE = /[\x80-\x9f]/g;

/** True when the text holds a sequence that reads as UTF-8 once mapped back to single bytes. */
function looksLikeMojibake(text: string): boolean {
  for (const m of text.matchAll(UTF8_DETECTOR_RE)) {
    const bytes = encodeSingleByte(m[0], 'sloppy-windows-1252') ?? encodeSingleByte(m[0], 'latin-1');
    if (bytes !== undefined && decodeUtf8(bytes) !== undefined) return true;
  }
  return false;
}

function redecodeWhole(text: string): string | undefined {
  for (const encoding of ['latin-1', 'sloppy-windows-1252'] as const) {
    const bytes = encodeSingleByte(text, encoding);
    if (bytes === undefined) continue;
    const decoded = decodeUtf8(bytes);
    if (decoded !== undefined) return decoded;
  }
  return undefined;
}

function fixC1Controls(text: string): string {
  return text.replace(C1_RE, (c) => String.fromCodePoint(CP1252_HIGH[c.charCodeAt(0) - 0x80]));
}

function fixEncodingOneStep(text: string): string {
  if (/^[\x00-\x7f]*$/.test(text) || !looksLikeMojibake(text)) return text;
  const whole = redecodeWhole(text);
  if (whole !== undefined) return whole;
  return text.replace(UTF8_DETECTOR_RE, (seq) => {
    if (seq.length >= text.length) return seq;
    return redecodeWhole(seq) ?? seq;
  });
}

/** ftfy's `fix_encoding`: undo UTF-8 → Windows-1252/Latin-1 mojibake, repeatedly. */
export function fixEncoding(text: string): string {
  for (;;) {
    const next = fixEncodingOneStep(text);
    if (next === text) return text;
    text = next;
  }
}

// ---- HTML entities (ftfy.fixes.unescape_html) --------------------------------------------------

const HTML_ENTITY_RE = /&#?[0-9A-Za-z]{1,24};/g;

function isNoncharacterOrControl(cp: number): boolean {
  return (
    (cp >= 0x1 && cp <= 0x8) ||
    cp === 0xb ||
    (cp >= 0xe && cp <= 0x1f) ||
    (cp >= 0x7f && cp <= 0x9f) ||
    (cp >= 0xfdd0 && cp <= 0xfdef) ||
    (cp & 0xfffe) === 0xfffe
  );
}

// Python's html.unescape for one numeric reference, as ftfy uses it.
function numericReference(body: string): string | undefined {
  const m = /^#(?:(\d+)|[xX]([0-9a-fA-F]+))$/.exec(body);
  if (m === null) return undefined;
  const num = m[1] !== undefined ? Number(m[1]) : parseInt(m[2], 16);
  if (num === 0) return '\ufffd';
  if (num === 0x0d) return '\r';
  if (num >= 0x80 && num <= 0x9f) return String.fromCodePoint(CP1252_HIGH[num - 0x80]);
  if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd';
  if (isNoncharacterOrControl(num)) return '';
  return String.fromCodePoint(num);
}

/** ftfy's `unescape_html`: known entities only, and a numeric reference only when it decodes whole. */
export function unescapeHtml(text: string): string {
  return text.replace(HTML_ENTITY_RE, (entity) => {
    const body = entity.slice(1, -1);
    const named = HTML_ENTITIES.get(body);
    if (named !== undefined) return named;
    if (!body.startsWith('#')) return entity;
    const decoded = numericReference(body);
    // ftfy refuses a result that still holds a ';' (html.unescape stopped early, or `&#59;`).
    return decoded === undefined || decoded.includes(';') ? entity : decoded;
  });
}

// ---- the small character fixes -------------------------------------------------------------------

const LIGATURES: ReadonlyMap<string, string> = new Map([
  ['Ĳ', 'IJ'], ['ĳ', 'ij'], ['ŉ', 'ʼn'], ['Ǳ', 'DZ'], ['ǲ', 'Dz'], ['ǳ', 'dz'], ['Ǆ', 'DŽ'], ['ǅ', 'Dž'],
  ['ǆ', 'dž'], ['Ǉ', 'LJ'], ['ǈ', 'Lj'], ['ǉ', 'lj'], ['Ǌ', 'NJ'], ['ǋ', 'Nj'], ['ǌ', 'nj'],
  ['ﬀ', 'ff'], ['ﬁ', 'fi'], ['ﬂ', 'fl'], ['ﬃ', 'ffi'], ['ﬄ', 'ffl'], ['ﬅ', 'ſt'], ['ﬆ', 'st'],
]);
const LIGATURE_RE = new RegExp(`[${[...LIGATURES.keys()].join('')}]`, 'gu');

// U+3000 and the Halfwidth and Fullwidth Forms block, each to its NFKC form where that differs.
const WIDTH_RE = /[\u3000\uff01-\uffef]/g;
function fixCharacterWidth(text: string): string {
  return text.replace(WIDTH_RE, (c) => (c === '\u3000' ? ' ' : c.normalize('NFKC')));
}

// Escape sequences a terminal would interpret, e.g. colours: ESC [ 1;31 m.
const ANSI_RE = /\x1b\[((?:\d|;)*)([a-zA-Z])/g;
// Control and formatting characters nobody means to type (ftfy 6's CONTROL_CHARS).
const CONTROL_RE = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function fixOnce(text: string, unescape: boolean): string {
  if (unescape) text = unescapeHtml(text);
  text = fixEncoding(text);
  text = fixC1Controls(text);
  text = text.replace(LIGATURE_RE, (c) => LIGATURES.get(c)!);
  text = fixCharacterWidth(text);
  text = text.replace(/[\u02bc\u2018-\u201b]/g, "'").replace(/[\u201c-\u201f]/g, '"');
  text = text.replace(/\r\n|[\r\u2028\u2029\u0085]/g, '\n');
  text = text.replace(LONE_SURROGATE_RE, '\ufffd');
  text = text.replace(ANSI_RE, '');
  text = text.replace(CONTROL_RE, '');
  return text.normalize('NFC');
}

/**
 * `ftfy.fix_text` with its default settings, line by line as ftfy processes it.
 *
 * @example fixText('The Mona Lisa doesnâ€™t') // "The Mona Lisa doesn't"
 */
export function fixText(text: string): string {
  let unescape = true;
  const out: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl === -1 ? text.length : nl + 1;
    let segment = text.slice(pos, end);
    // Once a line looks like real HTML, ftfy stops decoding entities for the rest of the text.
    if (unescape && segment.includes('<')) unescape = false;
    for (;;) {
      const fixed = fixOnce(segment, unescape);
      if (fixed === segment) break;
      segment = fixed;
    }
    out.push(segment);
    pos = end;
  }
  return out.join('');
}

const PY_SPACE_RUN_RE = new RegExp(`[${PY_SPACE}]+`, 'gu');

/** CLIP's `whitespace_clean`: runs of whitespace (Python's definition) become one space; trimmed. */
export function whitespaceClean(text: string): string {
  return text.replace(PY_SPACE_RUN_RE, ' ').replace(new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'gu'), '');
}
