import { describe, expect, it } from 'vitest';
import { DEFAULT_ADETAILER_FORM, loadADetailerForm, saveADetailerForm, toADetailerUnit, validateADetailerForm } from './adetailer-form.js';

describe('ADetailer form', () => {
  it('sends only what differs from ADetailer defaults', () => {
    expect(toADetailerUnit(DEFAULT_ADETAILER_FORM)).toEqual({ ad_model: 'face_yolov8n.pt' });
    expect(toADetailerUnit({ ...DEFAULT_ADETAILER_FORM, prompt: 'a smile', confidence: 0.5, dilateErode: -4, useSteps: true, steps: 12 })).toEqual({
      ad_model: 'face_yolov8n.pt', ad_prompt: 'a smile', ad_confidence: 0.5, ad_dilate_erode: -4, ad_use_steps: true, ad_steps: 12,
    });
    expect(toADetailerUnit({ ...DEFAULT_ADETAILER_FORM, noiseMultiplier: 0.8 })).toEqual({ ad_model: 'face_yolov8n.pt' });
    expect(toADetailerUnit({ ...DEFAULT_ADETAILER_FORM, useNoiseMultiplier: true, noiseMultiplier: 0.8 })).toEqual({
      ad_model: 'face_yolov8n.pt', ad_use_noise_multiplier: true, ad_noise_multiplier: 0.8,
    });
    expect(Object.keys(validateADetailerForm({ ...DEFAULT_ADETAILER_FORM, useNoiseMultiplier: true, noiseMultiplier: 2 }))).toEqual(['ad_noise_multiplier']);
  });

  it('names out-of-range fields with expected vs got', () => {
    const e = validateADetailerForm({ ...DEFAULT_ADETAILER_FORM, confidence: 2, maskBlur: 1.5 });
    expect(Object.keys(e).sort()).toEqual(['ad_confidence', 'ad_mask_blur']);
    expect(e.ad_confidence).toContain('got 2');
  });

  it('survives a reload and a broken entry', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    saveADetailerForm({ ...DEFAULT_ADETAILER_FORM, enabled: true, model: 'hand_yolov8n.pt' }, storage);
    expect(loadADetailerForm(storage)).toMatchObject({ enabled: true, model: 'hand_yolov8n.pt' });
    store.set('easel.adetailer.v1', '{broken');
    expect(loadADetailerForm(storage)).toEqual(DEFAULT_ADETAILER_FORM);
  });
});
