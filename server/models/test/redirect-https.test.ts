// A download that starts on https never finishes over cleartext: a redirect from https to http
// (or any other scheme) is refused with `forbidden_address`, and the http host is never asked.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer, globalAgent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openUrl, readText } from '../downloads/http-client.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const cert = readFileSync(join(fixtures, 'tls-127.0.0.1.crt'));
const key = readFileSync(join(fixtures, 'tls-127.0.0.1.key'));
const anyAddress = (): boolean => true;

describe('download redirects', () => {
  let tls: Server;
  let plain: Server;
  let tlsBase = '';
  let plainBase = '';
  const plainHits: string[] = [];
  const previousCa = globalAgent.options.ca;

  beforeAll(async () => {
    // The test certificate (CN and SAN 127.0.0.1) is trusted for this process only.
    globalAgent.options.ca = cert;
    plain = createHttpServer((req, res) => {
      plainHits.push(req.url ?? '');
      res.end('cleartext bytes');
    });
    tls = createHttpsServer({ cert, key }, (req, res) => {
      if (req.url === '/to-http') res.writeHead(302, { location: `${plainBase}/file` }).end();
      else if (req.url === '/to-ftp') res.writeHead(301, { location: 'ftp://127.0.0.1/file' }).end();
      else if (req.url === '/to-https') res.writeHead(302, { location: `${tlsBase}/file` }).end();
      else res.end('secure bytes');
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    plainBase = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
    tlsBase = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    globalAgent.options.ca = previousCa;
    tls?.close();
    plain?.close();
  });

  it('refuses an https → http redirect with forbidden_address, before asking the http host', async () => {
    await expect(openUrl(`${tlsBase}/to-http`, { policy: anyAddress })).rejects.toMatchObject({ code: 'forbidden_address', message: expect.stringMatching(/never leave https/) });
    await expect(openUrl(`${tlsBase}/to-ftp`, { policy: anyAddress })).rejects.toMatchObject({ code: 'forbidden_address' });
    expect(plainHits).toEqual([]);
  });

  it('still follows https → https redirects', async () => {
    const { res, url } = await openUrl(`${tlsBase}/to-https`, { policy: anyAddress });
    expect(url.href).toBe(`${tlsBase}/file`);
    expect(await readText(res)).toBe('secure bytes');
  });
});
