import { describe, expect, it } from 'vitest';
import { fixEncoding, fixText, unescapeHtml, whitespaceClean } from './text-clean.js';

describe('fixText (ftfy behaviours)', () => {
  it('repairs UTF-8 read as Windows-1252 or Latin-1, whole or in part', () => {
    expect(fixText('doesnâ€™t')).toBe("doesn't");
    expect(fixText('cafÃ© au lait')).toBe('café au lait');
    expect(fixText('Ã¼ber 😀 â€œquotedâ€\x9d')).toBe('über 😀 "quoted"');
    expect(fixEncoding('naÃ¯ve cafÃ©')).toBe('naïve café');
    expect(fixText('smile ðŸ˜€ ✓')).toBe('smile 😀 ✓');
  });

  it('leaves legitimate accented text alone', () => {
    for (const s of ['café naïve résumé Ångström façade', 'Ω≈ç√∫˜µ≤≥÷ ½ ²³ №', 'São Paulo, Zürich, Øresund']) {
      expect(fixText(s)).toBe(s.normalize('NFC'));
    }
  });

  it('decodes entities only as ftfy does', () => {
    expect(unescapeHtml('&amp; &lt; &NTILDE; &ntilde; &#39; &#x27; &bogus; &#59; &#1a;')).toBe("& < Ñ ñ ' ' &bogus; &#59; &#1a;");
    expect(unescapeHtml('&#128;&#0;&#1;')).toBe('€\ufffd');
    // A line with a literal '<' is treated as HTML: from there on entities stay.
    expect(fixText('a &amp; b\n<p>&amp;</p>\n&amp;')).toBe('a & b\n<p>&amp;</p>\n&amp;');
  });

  it('expands ligatures, folds full width, uncurls quotes, fixes C1 and line breaks', () => {
    expect(fixText('ﬁﬂ ＡＢＣ１２３\u3000ｶ')).toBe('fifl ABC123 カ');
    expect(fixText('‘a’ “b” ʼc')).toBe('\'a\' "b" \'c');
    // C1 controls are read as Windows-1252 before line breaks are fixed, so U+0085 becomes '…'.
    expect(fixText('x\x85y\r\nz\u2028w\rv')).toBe('x…y\nz\nw\nv');
    expect(fixText('\x93hi\x94')).toBe('"hi"');
  });

  it('removes controls and terminal escapes but keeps zero-width and soft hyphen', () => {
    expect(fixText('a\x00b\x1b[1;31mc\ufeffd\u200be\u00adf')).toBe('abcd\u200be\u00adf');
  });

  it('NFC-normalises and replaces lone surrogates', () => {
    expect(fixText('e\u0301')).toBe('é');
    expect(fixText('a\ud800b')).toBe('a\ufffdb');
  });
});

describe('whitespaceClean', () => {
  it('collapses Python whitespace, including NBSP and \\x1c, but not zero-width space', () => {
    expect(whitespaceClean('  a \t\n b\xa0\x1cc\u200bd  ')).toBe('a b c\u200bd');
  });
});
