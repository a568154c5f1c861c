// The user-facing A1111 parameters every ../shared/fixtures/*/e2e.json case carries (sd1-tiny,
// sdxl-tiny, sd1-controlnet), shared by the CLI end-to-end tests. Used only by *.test.ts files.
export interface A1111E2eCase {
  name: string;
  checkpoint: string;
  prompt: string;
  negative_prompt: string;
  seed: number;
  steps: number;
  cfg_scale: number;
  sampler: string;
  scheduler: string;
  width: number;
  height: number;
  rng_source: string;
  expected_png: string;
}
