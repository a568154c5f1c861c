// Both SDXL tokenizers against ../shared/fixtures/sdxl-tiny/tokens.json: transformers' CLIPTokenizer
// for CLIP-L and open_clip's SimpleTokenizer for OpenCLIP, over the same vocabulary (README §2).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadClipTokenizer } from '../../text/clip-tokenizer.js';
import { sd1TinyPath, sdxlTinyPath } from '../../testing/fixtures.js';

interface Case {
  text: string;
  clip_l_ids: number[];
  open_clip_ids: number[];
  same: boolean;
}
const fixture = JSON.parse(readFileSync(sdxlTinyPath('tokens.json'), 'utf8')) as { cases: Case[]; bos_id: number; eos_id: number };

describe('SDXL tokenizers (sdxl-tiny tokens.json)', async () => {
  const clipL = await loadClipTokenizer(sd1TinyPath('tokenizer'));
  const openClip = clipL.withFlavor('open_clip');

  it('has cases where the two differ', () => {
    expect(fixture.cases.length).toBe(17);
    expect(fixture.cases.some((c) => !c.same)).toBe(true);
    expect([openClip.bosId, openClip.eosId]).toEqual([fixture.bos_id, fixture.eos_id]);
  });

  for (const c of fixture.cases) {
    it(`${JSON.stringify(c.text.slice(0, 40))}`, () => {
      expect(clipL.encode(c.text)).toEqual(c.clip_l_ids);
      expect(openClip.encode(c.text)).toEqual(c.open_clip_ids);
    });
  }
});
