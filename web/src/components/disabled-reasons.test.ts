// "No dead ends": every control the app can disable says why, in a tooltip on the same element.
// A static check over the components' templates: each `?disabled=` binding must come with a
// `title=` in the same element.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/** The text of the element around `at`: from its `<tag` to the end of its opening tag's line group. */
function elementAt(src: string, at: number): string {
  const start = src.lastIndexOf('<', at);
  const ends = [src.indexOf('</', at), src.indexOf('/>', at)].filter((i) => i >= 0);
  return src.slice(start, Math.min(...ends));
}

describe('disabled controls', () => {
  it('each says why it is disabled (title on the same element)', () => {
    let checked = 0;
    for (const file of sources(here)) {
      const src = readFileSync(file, 'utf8');
      for (const m of src.matchAll(/\?disabled=/g)) {
        checked++;
        const el = elementAt(src, m.index);
        expect(el, `${relative(here, file)}: a disabled control without a title`).toMatch(/\btitle=/);
      }
    }
    expect(checked).toBeGreaterThan(10);
  });
});
