// The public surface of the sampling layer: seeds, schedules, samplers, guidance, image bytes.
export { SamplingError, type SamplingErrorCode } from './errors.js';
export * from './names.js';
export { TorchCpuGenerator } from './rng-torch-cpu.js';
export { PhiloxGenerator } from './rng-philox.js';
export { batchSeeds, createGenerator, ImageNoise, RANDOM_SEED_LIMIT, resolveSeed, type ImageNoiseOptions, type NoiseGenerator, type RngSource } from './seeds.js';
export {
  alphasCumprodFromConfig,
  ddimTimesteps,
  getSigmas,
  img2imgSigmas,
  modelScheduleFromAlphasCumprod,
  schedulerSigmas,
  sigmaToT,
  tToSigma,
  type BetaScheduleConfig,
  type ModelSchedule,
} from './schedules.js';
export type { DenoiseFn, EpsFn, IntervalNoise, IntervalNoiseFactory, SampleOptions, Sampler, SamplerStep } from './sampler.js';
export { promptScheduleSteps, samplerById, type SamplerEntry } from './registry.js';
export { sampleDdim, type DdimOptions } from './samplers/ddim.js';
export { brownianNoise, BrownianPath } from './brownian.js';
export { compVisDenoise, compVisScalings, LATENT_CHANNELS, type UNetDims, type UNetEpsFn } from './denoiser.js';
export {
  createCfgDenoiser,
  createCfgEps,
  pickScheduled,
  plainCfgImages,
  type CfgImage,
  type CfgOptions,
  type CondTensor,
  type ScheduledCond,
  type WeightedSchedule,
} from './cfg.js';
export { runSampling, type RunSamplingOptions, type SamplingResult } from './run.js';
export { decodedToUint8, uint8ToUnit, type ImageDims } from './image.js';
