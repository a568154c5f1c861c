// Pieces of Python semantics that A1111's and transformers' text code relies on and that JavaScript
// regexes or number parsing do not give for free: `str.isspace()` whitespace, the Unicode `\b` word
// boundary, and `float()` on the restricted strings those regexes let through.

/**
 * Python's `\s` on str patterns (`str.isspace()`): JS `\s` lacks \x1c-\x1f and \x85 and adds \ufeff.
 * Written as a character-class body, for use inside `[...]`.
 */
export const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/** Python's Unicode `\w` (alphanumerics and `_`), as a character-class body; needs the `u` flag. */
export const PY_WORD = '\\p{L}\\p{N}_';

/** A regex fragment equal to Python's `\b` next to a word character on the given side. */
export const PY_WORD_START = `(?<![${PY_WORD}])`;
export const PY_WORD_END = `(?![${PY_WORD}])`;

// What Python's float() accepts among strings made of [+-.0-9] (possibly with surrounding spaces):
// digits with at most one decimal point and at least one digit.
const PY_DECIMAL_RE = /^[ \t\n\r\f\v]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[ \t\n\r\f\v]*$/;

/** Python `float(s)` for plain decimal strings; `undefined` where Python raises ValueError. */
export function pyFloat(s: string): number | undefined {
  if (!PY_DECIMAL_RE.test(s)) return undefined;
  return Number(s.trim());
}

// Python float() literal syntax in full: digits may be grouped with single underscores, plus
// inf/infinity/nan in any case, all with optional surrounding whitespace.
const PY_DIGITS = '\\d(?:_?\\d)*';
const PY_FLOAT_LITERAL_RE = new RegExp(
  `^[${PY_SPACE}]*([+-]?)(?:((?:${PY_DIGITS})?\\.${PY_DIGITS}|${PY_DIGITS}\\.?)([eE][+-]?${PY_DIGITS})?|(inf|infinity|nan))[${PY_SPACE}]*$`,
  'iu',
);

/** Python `float(s)` for any string (`'1e-1'`, `' 2 '`, `'1_000'`, `'-inf'`); `undefined` where Python raises. */
export function pyFloatLiteral(s: string): number | undefined {
  const m = PY_FLOAT_LITERAL_RE.exec(s);
  if (m === null) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  if (m[4] !== undefined) return m[4].toLowerCase() === 'nan' ? NaN : sign * Infinity;
  return sign * Number(`${m[2]}${m[3] ?? ''}`.replaceAll('_', ''));
}

/** Python `int(s)` for decimal strings; `undefined` where Python raises. */
export function pyInt(s: string): number | undefined {
  const m = new RegExp(`^[${PY_SPACE}]*([+-]?${PY_DIGITS})[${PY_SPACE}]*$`, 'u').exec(s);
  return m === null ? undefined : Number(m[1].replaceAll('_', ''));
}
