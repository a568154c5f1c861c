// Smoke tests of the two checkpoint scripts as command lines.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../native/models/checkpoint.js';

const here = dirname(fileURLToPath(import.meta.url));
const run = (script: string, args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', resolve(here, script), ...args], { cwd: resolve(here, '..'), encoding: 'utf8' });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'easel-make-ckpt-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('scripts/make-tiny-checkpoint.ts', () => {
  it('prints help', () => {
    const r = run('make-tiny-checkpoint.ts', ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--inpainting');
  });

  it('writes a checkpoint that opens as sd1', async () => {
    const out = join(dir, 'cli-tiny.safetensors');
    const r = run('make-tiny-checkpoint.ts', ['--out', out, '--seed', '5', '--inpainting']);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const ckpt = await openCheckpoint(out);
    expect(ckpt.family).toBe('sd1');
    expect(ckpt.config.unet.in_channels).toBe(9);
    await ckpt.close();
  });

  it('exits 2 without --out', () => {
    const r = run('make-tiny-checkpoint.ts', []);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--out FILE is required');
  });
});

describe('scripts/make-random-sd15.ts', () => {
  it('prints help and refuses a bad dtype', () => {
    const help = run('make-random-sd15.ts', ['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--dtype f16|f32');
    const bad = run('make-random-sd15.ts', ['--out', join(dir, 'x.safetensors'), '--dtype', 'f8']);
    expect(bad.status).toBe(2);
  });
});
