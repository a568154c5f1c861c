// Writes a full-size random-weight SDXL base checkpoint (2516 tensors, ~6.9 GB in f16) from the key
// list ../shared/fixtures/keys/sdxl_base.json, tensor by tensor. For `npm run bench:engine --
// --family sdxl`; not a trained model.
//
// Usage: npx tsx scripts/make-random-sdxl.ts --out FILE [--dtype f16|f32] [--seed N] [--keys FILE]
import { runMain } from './cli.js';
import { makeRandomMain } from './make-random-sd15.js';

runMain(() => makeRandomMain('sdxl'));
