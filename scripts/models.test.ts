// scripts/models.ts: the starter catalog from the shell: --list, refusing what this build cannot
// run, and a real download of a catalog entry from a local HTTP server into its type's folder.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runModelsCli } from './models.js';

function tinySafetensors(): Buffer {
  const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, header, Buffer.alloc(8)]);
}

async function run(argv: string[], caps: Record<string, unknown> = { generate: true }): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runModelsCli(argv, {}, { stdout: (s) => (out += s), stderr: (s) => (err += s) }, caps);
  return { code, out, err };
}

describe('npm run models', () => {
  const dir = mkdtempSync(join(tmpdir(), 'easel-models-cli-'));
  const file = tinySafetensors();
  let server: Server;
  let catalog: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/files/starter.safetensors') {
        res.writeHead(200, { 'content-length': String(file.length) });
        res.end(file);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    catalog = join(dir, 'catalog.json');
    const common = { description: 'd', family: 'sd1', size_bytes: file.length, license: 'MIT', feature: 'Text to image' };
    writeFileSync(
      catalog,
      JSON.stringify({
        models: [
          { id: 'tiny', name: 'Tiny', type: 'checkpoint', source: `${base}/files/starter.safetensors`, sha256: createHash('sha256').update(file).digest('hex'), requires: 'generate', ...common },
          { id: 'xl', name: 'XL', type: 'checkpoint', source: `${base}/files/xl.safetensors`, requires: 'sdxl', ...common, family: 'sdxl' },
        ],
      }),
    );
  });
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the shipped catalog with sizes and what this build cannot run yet', async () => {
    const r = await run(['--list'], { generate: true, upscale: false });
    expect(r.code).toBe(0);
    const sd15 = r.out.split('\n').find((l) => l.startsWith('sd15 '))!;
    expect(sd15).toMatch(/2\.1 GB\s+checkpoint\s+Stable Diffusion 1\.5: Text to image/);
    expect(sd15).not.toMatch(/not yet/);
    expect(r.out.split('\n').find((l) => l.startsWith('realesrgan-x4plus '))).toMatch(/\[not yet: needs upscaling, which this server cannot run yet\]/);
  });

  it('downloads a starter model into its folder and prints the path', async () => {
    const models = join(dir, 'models');
    const r = await run(['--starter', 'tiny', '--catalog', catalog, '--models-dir', models, '--allow-private']);
    expect(r.code, r.err).toBe(0);
    const path = join(models, 'checkpoints', 'starter.safetensors');
    expect(r.out.trim()).toBe(path);
    expect(readFileSync(path)).toEqual(file);
  });

  it('refuses what this build cannot run (exit 3), unknown ids and bad arguments (exit 2)', async () => {
    const models = join(dir, 'models-refused');
    const xl = await run(['--starter', 'xl', '--catalog', catalog, '--models-dir', models, '--allow-private']);
    expect(xl.code).toBe(3);
    expect(xl.err).toMatch(/xl needs SDXL models, which this server cannot run yet \(--force/);
    expect(existsSync(models)).toBe(false);
    const unknown = await run(['--starter', 'nope', '--catalog', catalog]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/no starter model "nope" \(ids: tiny, xl\)/);
    expect((await run([])).code).toBe(2);
    expect((await run(['--list', '--starter', 'tiny'])).code).toBe(2);
    expect((await run(['--help'])).out).toMatch(/--starter ID/);
  });
});
