// Test double of the download hosts: one local HTTP server on 127.0.0.1 port 0 standing in for
// Hugging Face, Civitai and a CDN. It serves byte payloads with Range support, can drop the
// connection mid-body or trickle bytes slowly, serves the API answers from the JSON fixtures
// beside this file, and records every request (method, path, headers) for assertions.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface ServeOptions {
  /** The first `times` answers stop after `bytes` bytes and drop the connection. */
  dropAfter?: { bytes: number; times: number };
  /** Ignore Range (answer 200 with everything). */
  noRange?: boolean;
  /** Send in chunks of `chunk` bytes, `delayMs` apart. */
  trickle?: { chunk: number; delayMs: number };
  headers?: Record<string, string>;
  /** Leave Content-Length out (unknown size). */
  noLength?: boolean;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export class FakeHost {
  readonly requests: RecordedRequest[] = [];
  private readonly routes = new Map<string, Handler>();
  private readonly served = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    readonly base: string,
  ) {}

  static async start(): Promise<FakeHost> {
    let host: FakeHost | undefined;
    const server = createServer((req, res) => host!.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = new FakeHost(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return host;
  }

  route(method: string, path: string, handler: Handler): void {
    this.routes.set(`${method} ${path}`, handler);
  }

  /** Requests to one path (query string stripped). */
  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.split('?')[0] === path);
  }

  json(path: string, value: unknown, method = 'GET'): void {
    this.route(method, path, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    });
  }

  redirect(path: string, location: string, headers: Record<string, string> = {}): void {
    this.route('GET', path, (_req, res) => {
      res.writeHead(302, { location, ...headers });
      res.end();
    });
  }

  bytes(path: string, data: Buffer, opts: ServeOptions = {}): void {
    this.route('GET', path, (req, res) => {
      const n = (this.served.get(path) ?? 0) + 1;
      this.served.set(path, n);
      let start = 0;
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes', ...opts.headers };
      if (range && !opts.noRange) {
        start = Number(range[1]);
        if (start >= data.length) {
          res.writeHead(416, { 'content-range': `bytes */${data.length}` });
          res.end();
          return;
        }
        headers['content-range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
      }
      if (!opts.noLength) headers['content-length'] = String(data.length - start);
      res.writeHead(range && !opts.noRange ? 206 : 200, headers);
      const body = data.subarray(start);
      if (opts.dropAfter && n <= opts.dropAfter.times) {
        res.write(body.subarray(0, opts.dropAfter.bytes), () => setTimeout(() => res.socket?.destroy(), 20));
        return;
      }
      if (opts.trickle) {
        const { chunk, delayMs } = opts.trickle;
        let pos = 0;
        const tick = (): void => {
          if (res.destroyed || res.socket?.destroyed) return;
          if (pos >= body.length) return void res.end();
          res.write(body.subarray(pos, pos + chunk));
          pos += chunk;
          setTimeout(tick, delayMs);
        };
        tick();
        return;
      }
      res.end(body);
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      this.requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body });
      const handler = this.routes.get(`${req.method} ${path.split('?')[0]}`);
      if (!handler) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'not found' }));
        return;
      }
      handler(req, res, body);
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** A fixture JSON beside this file with `{{KEY}}` placeholders filled ("{{KEY}}" in quotes becomes a number when the value is one). */
export function fixtureJson(name: string, values: Record<string, string | number>): unknown {
  let text = readFileSync(join(here, 'fixtures', name), 'utf8');
  for (const [k, v] of Object.entries(values)) {
    text = typeof v === 'number' ? text.replaceAll(`"{{${k}}}"`, String(v)) : text.replaceAll(`{{${k}}}`, v);
  }
  return JSON.parse(text) as unknown;
}
