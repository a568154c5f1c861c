// ADetailer's infotext rules (adetailer/args.py extra_params): fixed keys always written, defaults
// dropped by the ppop rules, Python float spelling, " 2nd"/" 3rd" suffixes, skipped tabs keep
// their index, `ADetailer version` last; and the reverse through the infotext parser.
import { describe, expect, it } from 'vitest';
import { formatInfotext, parseInfotext } from '../../server/infotext/index.js';
import { adetailerExtraParams, ADETAILER_DEFAULTS, pyFloat, tabSuffix, unitExtraParams, withDefaults } from './args.js';
import { splitPrompts } from './run-adetailer.js';

describe('ADetailer args', () => {
  it('has ADetailer v25.3.0 defaults', () => {
    expect(ADETAILER_DEFAULTS).toMatchObject({
      ad_model: 'None', ad_confidence: 0.3, ad_mask_k: 0, ad_dilate_erode: 4, ad_mask_blur: 4, ad_denoising_strength: 0.4,
      ad_inpaint_only_masked: true, ad_inpaint_only_masked_padding: 32, ad_inpaint_width: 512, ad_steps: 28, ad_cfg_scale: 7,
      ad_sampler: 'DPM++ 2M Karras', ad_scheduler: 'Use same scheduler', ad_noise_multiplier: 1, ad_clip_skip: 1,
    });
  });

  it('writes the always-present keys for a default tab', () => {
    expect(unitExtraParams(withDefaults({ ad_model: 'face_yolov8n.pt' }))).toEqual([
      ['ADetailer model', 'face_yolov8n.pt'],
      ['ADetailer confidence', '0.3'],
      ['ADetailer dilate erode', 4],
      ['ADetailer mask blur', 4],
      ['ADetailer denoising strength', '0.4'],
      ['ADetailer inpaint only masked', true],
      ['ADetailer inpaint padding', 32],
    ]);
  });

  it('keeps non-defaults with their companions and drops the rest', () => {
    const keys = unitExtraParams(
      withDefaults({ ad_model: 'hand_yolov8n.pt', ad_prompt: 'a hand', ad_mask_k: 2, ad_inpaint_only_masked: false, ad_use_steps: true, ad_steps: 12, ad_use_sampler: true, ad_cfg_scale: 9 }),
    );
    const names = keys.map(([k]) => k);
    expect(names).toContain('ADetailer prompt');
    expect(names).toContain('ADetailer method to decide top k masks');
    expect(names).not.toContain('ADetailer inpaint padding');
    expect(keys).toContainEqual(['ADetailer inpaint only masked', false]);
    expect(keys).toContainEqual(['ADetailer steps', 12]);
    expect(keys).toContainEqual(['ADetailer sampler', 'DPM++ 2M Karras']);
    expect(names).not.toContain('ADetailer scheduler'); // "Use same scheduler"
    expect(names).not.toContain('ADetailer CFG scale'); // ad_use_cfg_scale is off
  });

  it('suffixes later tabs, counts skipped ones and ends with the version', () => {
    const out = adetailerExtraParams([withDefaults({ ad_model: 'a.pt' }), withDefaults({ ad_model: 'None' }), withDefaults({ ad_model: 'c.pt', ad_confidence: 1 })]);
    expect(out[0]).toEqual(['ADetailer model', 'a.pt']);
    expect(out).toContainEqual(['ADetailer model 3rd', 'c.pt']);
    expect(out).toContainEqual(['ADetailer confidence 3rd', '1.0']);
    expect(out.at(-1)).toEqual(['ADetailer version', '25.3.0']);
    expect(out.some(([k]) => k.endsWith(' 2nd'))).toBe(false);
    expect(adetailerExtraParams([withDefaults({ ad_model: 'None' })])).toEqual([]);
    expect([tabSuffix(0), tabSuffix(1), tabSuffix(2), tabSuffix(3), tabSuffix(10)]).toEqual(['', ' 2nd', ' 3rd', ' 4th', ' 11th']);
    expect([pyFloat(7), pyFloat(0.35), pyFloat(1e-7)]).toEqual(['7.0', '0.35', '1e-07']);
  });

  it('round-trips through the infotext', () => {
    const units = [withDefaults({ ad_model: 'face_yolov8n.pt', ad_prompt: 'detailed face, smile', ad_x_offset: -3 }), withDefaults({ ad_model: 'hand_yolov8n.pt', ad_use_clip_skip: true, ad_clip_skip: 2 })];
    const text = formatInfotext({ prompt: 'p', steps: 20, sampler: 'euler', cfg_scale: 7, seed: 1, width: 512, height: 512, extra: adetailerExtraParams(units) });
    expect(text).toContain('ADetailer prompt: "detailed face, smile"');
    expect(parseInfotext(text).adetailer).toEqual(units);
  });

  it('splits prompts like ADetailer', () => {
    expect(splitPrompts('', 'main')).toEqual(['main']);
    expect(splitPrompts('a [SEP] [PROMPT], b [SEP]', 'main')).toEqual(['a', 'main, b', 'main']);
    expect(splitPrompts('[SKIP][SEP]x', 'main')).toEqual(['[SKIP]', 'x']);
  });
});
