// scripts/download-model.ts as a command line: help, argument errors (exit 2, nothing fetched),
// and real downloads through server/models/downloads from an HTTP server on 127.0.0.1 (allowed
// with --allow-private): the saved path on stdout, the file in the type's folder, a checksum
// mismatch failing with exit 1.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDownloadArgs, UsageError } from './download-model.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a child process (async: the HTTP server it downloads from lives in this process). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((res) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'download-model.ts'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => res({ status, stdout, stderr }));
  });
}

/** A minimal valid .safetensors file: one F32 tensor of 4 values (not an SD checkpoint). */
function tinySafetensors(): Buffer {
  const header = Buffer.from(JSON.stringify({ 'lora_unet_down.alpha': { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  const data = Buffer.alloc(16);
  [1, 2, 3, 4].forEach((v, i) => data.writeFloatLE(v, i * 4));
  return Buffer.concat([len, header, data]);
}

describe('parseDownloadArgs', () => {
  it('reads a source and its options', () => {
    const p = parseDownloadArgs(['civitai:4384@1234', '--type', 'lora', '--filename', 'x.safetensors', '--sha256', 'A'.repeat(64), '--allow-private'], { MODELS_DIR: '/m' });
    expect(p.request).toEqual({ source: 'civitai:4384@1234', type: 'lora', filename: 'x.safetensors', sha256: 'a'.repeat(64) });
    expect(p.modelsDir).toBe(resolve('/m'));
    expect(p.allowPrivate).toBe(true);
    expect(parseDownloadArgs(['civitai:1'], {}).allowPrivate).toBe(false);
    expect(parseDownloadArgs(['civitai:1'], { ALLOW_PRIVATE_DOWNLOADS: 'true' }).allowPrivate).toBe(true);
    expect(parseDownloadArgs(['hf:o/r/f.safetensors', '--models-dir', '/x'], { MODELS_DIR: '/m' }).modelsDir).toBe(resolve('/x'));
    expect(parseDownloadArgs(['https://h.example/f.safetensors'], {}).request.type).toBe('checkpoint');
    expect(parseDownloadArgs(['hf:openai/clip-vit-large-patch14', '--type', 'tokenizer'], {}).request).toEqual({ source: 'hf:openai/clip-vit-large-patch14', type: 'tokenizer' });
  });

  it.each([
    [[], /exactly one source/],
    [['a', 'b'], /exactly one source/],
    [['ftp://h/f.safetensors'], /not a model source/],
    [['hf:only-repo'], /not a model source/],
    [['civitai:abc'], /not a model source/],
    [['civitai:1', '--type', 'poster'], /--type must be one of/],
    [['civitai:1', '--sha256', 'abc'], /--sha256 must be 64 hex/],
    [['civitai:1', '--filename', '../evil.safetensors'], /plain file name/],
    [['civitai:1', '--bogus'], /Unknown option '--bogus'/],
  ])('refuses %j', (args, message) => {
    expect(() => parseDownloadArgs(args, {})).toThrow(UsageError);
    expect(() => parseDownloadArgs(args, {})).toThrow(message);
  });
});

describe('download-model CLI', () => {
  const body = tinySafetensors();
  const sha = createHash('sha256').update(body).digest('hex');
  let server: Server;
  let base = '';
  let dir = '';
  const requests: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'easel-download-cli-'));
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url?.startsWith('/files/')) {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
        res.end(req.method === 'HEAD' ? undefined : body);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints help and exits 0', async () => {
    const r = await cli(['--help']);
    expect(r.status).toBe(0);
    for (const o of ['--type', '--filename', '--sha256', '--models-dir', '--allow-private', 'hf:', 'civitai:']) expect(r.stdout).toContain(o);
  });

  it('exits 2 on bad arguments without fetching anything', async () => {
    const before = requests.length;
    const r = await cli([`${base}/files/a.safetensors`, '--type', 'poster', '--models-dir', dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--type must be one of/);
    expect(r.stdout).toBe('');
    expect(requests.length).toBe(before);
  });

  it('downloads from a loopback server with --allow-private and prints the saved path', async () => {
    const models = join(dir, 'ok');
    const r = await cli([`${base}/files/tiny-lora.safetensors`, '--type', 'lora', '--sha256', sha, '--models-dir', models, '--allow-private']);
    expect(r.stderr).not.toMatch(/download-model:/);
    expect(r.status).toBe(0);
    const path = r.stdout.trim();
    expect(path).toBe(join(models, 'loras', 'tiny-lora.safetensors'));
    expect(readFileSync(path).equals(body)).toBe(true);
    expect(r.stderr).toContain(`sha256 ${sha}`);
  });

  it('refuses a loopback server without --allow-private (exit 1)', async () => {
    const models = join(dir, 'private');
    const r = await cli([`${base}/files/tiny-lora.safetensors`, '--type', 'lora', '--models-dir', models]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/download-model: \w+: /);
    expect(existsSync(join(models, 'loras', 'tiny-lora.safetensors'))).toBe(false);
  });

  it('fails with exit 1 on a checksum mismatch and keeps no file', async () => {
    const models = join(dir, 'bad');
    const r = await cli([`${base}/files/tiny-vae.safetensors`, '--type', 'vae', '--sha256', '0'.repeat(64), '--models-dir', models, '--allow-private']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/download-model: checksum_mismatch: /);
    expect(r.stdout).toBe('');
    const vaeDir = join(models, 'vae');
    expect(existsSync(vaeDir) ? readdirSync(vaeDir) : []).toEqual([]);
  });
});
