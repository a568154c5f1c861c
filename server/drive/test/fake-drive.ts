// A local fake of the Drive v3 endpoints Easel uses, plus Google's OAuth token endpoint, on
// 127.0.0.1 port 0: files.list (the `q` subset drive-client.ts writes), files.create (JSON metadata
// for folders; multipart/related uploads, which googleapis uses for metadata + media), files.get
// with alt=media or metadata, files.update as a metadata PATCH (name, description, appProperties
// merged key by key, a null value removing the key, as Drive does), POST /token (authorization_code with PKCE, refresh_token). Fault injection: the
// next N matching requests answer a status (with a reason and Retry-After), drop the connection,
// or are carried out and then dropped (an answer lost after the upload landed).
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FOLDER_MIME = 'application/vnd.google-apps.folder';

export interface FakeFile {
  id: string;
  name: string;
  mimeType: string;
  parents: string[];
  description?: string;
  appProperties?: Record<string, string>;
  trashed: boolean;
  content?: Buffer;
}

export interface Fault {
  /** How many matching requests it applies to. */
  count: number;
  /** Answer this status (JSON error body in Drive's format). */
  status?: number;
  reason?: string;
  retryAfter?: string;
  /** Destroy the socket without answering. */
  drop?: boolean;
  /** Carry the request out, then destroy the socket (the client never learns it worked). */
  commitThenDrop?: boolean;
  match?: (req: RequestInfo) => boolean;
}

export interface RequestInfo {
  method: string;
  path: string;
  query: URLSearchParams;
}

export interface LoggedRequest extends RequestInfo {
  status: number | 'dropped';
}

type Clause = (f: FakeFile) => boolean;

/** Parses the subset of Drive's query language the client sends; throws on anything else. */
export function parseQuery(q: string): Clause {
  const clauses: Clause[] = [];
  let rest = q.trim();
  const lit = String.raw`'((?:[^'\\]|\\.)*)'`;
  const unquote = (s: string): string => s.replace(/\\(.)/g, '$1');
  const patterns: Array<[RegExp, (m: RegExpExecArray) => Clause]> = [
    [new RegExp(`^name\\s*=\\s*${lit}`), (m) => (f) => f.name === unquote(m[1]!)],
    [new RegExp(`^mimeType\\s*=\\s*${lit}`), (m) => (f) => f.mimeType === unquote(m[1]!)],
    [new RegExp(`^mimeType\\s*!=\\s*${lit}`), (m) => (f) => f.mimeType !== unquote(m[1]!)],
    [new RegExp(`^${lit}\\s+in\\s+parents`), (m) => (f) => f.parents.includes(unquote(m[1]!))],
    [/^trashed\s*=\s*(true|false)/, (m) => (f) => f.trashed === (m[1] === 'true')],
    [
      new RegExp(`^appProperties\\s+has\\s*\\{\\s*key\\s*=\\s*${lit}\\s+and\\s+value\\s*=\\s*${lit}\\s*\\}`),
      (m) => (f) => f.appProperties?.[unquote(m[1]!)] === unquote(m[2]!),
    ],
  ];
  while (rest.length > 0) {
    const hit = patterns.map(([re, make]) => [re.exec(rest), make] as const).find(([m]) => m !== null);
    if (!hit || !hit[0]) throw new Error(`fake drive: unsupported query at "${rest}"`);
    clauses.push(hit[1](hit[0]));
    rest = rest.slice(hit[0][0].length).trim();
    if (rest.length > 0) {
      if (!rest.startsWith('and ')) throw new Error(`fake drive: expected "and" at "${rest}"`);
      rest = rest.slice(4).trim();
    }
  }
  return (f) => clauses.every((c) => c(f));
}

/** Splits a multipart/related body into its parts (headers lower-cased). */
export function parseMultipart(body: Buffer, boundary: string): Array<{ headers: Record<string, string>; body: Buffer }> {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Array<{ headers: Record<string, string>; body: Buffer }> = [];
  let pos = body.indexOf(delimiter);
  while (pos >= 0) {
    let start = pos + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    if (body.subarray(start, start + 2).toString() === '\r\n') start += 2;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    let end = next;
    if (body.subarray(end - 2, end).toString() === '\r\n') end -= 2;
    const part = body.subarray(start, end);
    const split = part.indexOf('\r\n\r\n');
    const headers: Record<string, string> = {};
    for (const line of part.subarray(0, split).toString().split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    parts.push({ headers, body: part.subarray(split + 4) });
    pos = next;
  }
  return parts;
}

export class FakeDrive {
  readonly files = new Map<string, FakeFile>();
  readonly requests: LoggedRequest[] = [];
  readonly faults: Fault[] = [];
  /** Valid access tokens; `expireAccessTokens()` empties it to provoke 401s. */
  readonly accessTokens = new Set<string>();
  readonly refreshTokens = new Set<string>();
  /** Authorization codes the consent screen "issued", with their PKCE challenge. */
  readonly codes = new Map<string, string | undefined>();
  tokenRequests: Array<Record<string, string>> = [];
  private server: Server | undefined;
  private nextId = 1;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.json(res, 500, { error: { code: 500, message: String(err), errors: [{ reason: 'backendError' }] } });
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  get tokenUrl(): string {
    return `${this.url}token`;
  }

  /** What the consent screen would redirect with: a fresh code bound to a PKCE challenge. */
  issueCode(codeChallenge?: string): string {
    const code = `4/${randomBytes(8).toString('hex')}`;
    this.codes.set(code, codeChallenge);
    return code;
  }

  expireAccessTokens(): void {
    this.accessTokens.clear();
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  /** Drive requests only (token endpoint excluded), for counting calls. */
  driveRequests(filter?: (r: LoggedRequest) => boolean): LoggedRequest[] {
    return this.requests.filter((r) => r.path !== '/token' && (!filter || filter(r)));
  }

  folders(): FakeFile[] {
    return [...this.files.values()].filter((f) => f.mimeType === FOLDER_MIME);
  }

  uploads(): FakeFile[] {
    return [...this.files.values()].filter((f) => f.mimeType !== FOLDER_MIME);
  }

  /** The folder path of a file, e.g. StableDiffusion_Gallery/2026/11/21. */
  pathOf(file: FakeFile): string {
    const names: string[] = [];
    let parent = file.parents[0];
    while (parent && this.files.has(parent)) {
      const f = this.files.get(parent)!;
      names.unshift(f.name);
      parent = f.parents[0];
    }
    return names.join('/');
  }

  addFile(f: Omit<FakeFile, 'id' | 'trashed'> & { trashed?: boolean }): FakeFile {
    const file: FakeFile = { trashed: false, ...f, id: `f${this.nextId++}` };
    this.files.set(file.id, file);
    return file;
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private view(f: FakeFile): Omit<FakeFile, 'content' | 'trashed'> & { size?: string } {
    const { content, trashed: _trashed, ...rest } = f;
    return { ...rest, ...(content ? { size: String(content.length) } : {}) };
  }

  private takeFault(info: RequestInfo): Fault | undefined {
    const i = this.faults.findIndex((f) => f.count > 0 && (!f.match || f.match(info)));
    if (i < 0) return undefined;
    const fault = this.faults[i]!;
    fault.count--;
    if (fault.count === 0) this.faults.splice(i, 1);
    return fault;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const info: RequestInfo = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams };
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const log: LoggedRequest = { ...info, status: 0 };
    this.requests.push(log);

    if (info.path === '/token') return this.token(body, res, log);

    const fault = this.takeFault(info);
    if (fault?.drop) {
      log.status = 'dropped';
      req.socket.destroy();
      return;
    }
    if (fault?.status) {
      log.status = fault.status;
      return this.json(res, fault.status, { error: { code: fault.status, message: `injected ${fault.status}`, errors: [{ reason: fault.reason ?? 'injected', message: 'injected' }] } }, fault.retryAfter ? { 'retry-after': fault.retryAfter } : {});
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !this.accessTokens.has(bearer)) {
      log.status = 401;
      return this.json(res, 401, { error: { code: 401, message: 'Request had invalid authentication credentials.', errors: [{ reason: 'authError' }] } });
    }
    const answer = (status: number, payload: unknown, raw?: Buffer): void => {
      log.status = status;
      if (fault?.commitThenDrop) {
        log.status = 'dropped';
        req.socket.destroy();
        return;
      }
      if (raw) {
        res.writeHead(status, { 'content-type': 'application/octet-stream', 'content-length': raw.length });
        res.end(raw);
      } else this.json(res, status, payload);
    };

    if (info.method === 'GET' && info.path === '/drive/v3/files') {
      const match = parseQuery(info.query.get('q') ?? '');
      const all = [...this.files.values()].filter(match).sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
      const size = Number(info.query.get('pageSize') ?? '100');
      const offset = Number(info.query.get('pageToken') ?? '0');
      const page = all.slice(offset, offset + size);
      return answer(200, { files: page.map((f) => this.view(f)), ...(offset + size < all.length ? { nextPageToken: String(offset + size) } : {}) });
    }
    const get = /^\/drive\/v3\/files\/([^/]+)$/.exec(info.path);
    if (info.method === 'GET' && get) {
      const file = this.files.get(decodeURIComponent(get[1]!));
      if (!file) return answer(404, { error: { code: 404, message: 'File not found', errors: [{ reason: 'notFound' }] } });
      if (info.query.get('alt') === 'media') return answer(200, null, file.content ?? Buffer.alloc(0));
      return answer(200, this.view(file));
    }
    if (info.method === 'PATCH' && get) {
      const file = this.files.get(decodeURIComponent(get[1]!));
      if (!file) return answer(404, { error: { code: 404, message: 'File not found', errors: [{ reason: 'notFound' }] } });
      const patch = JSON.parse(body.toString('utf8')) as { name?: string; description?: string; appProperties?: Record<string, string | null>; trashed?: boolean };
      if (patch.name !== undefined) file.name = patch.name;
      if (patch.description !== undefined) file.description = patch.description;
      if (patch.trashed !== undefined) file.trashed = patch.trashed;
      if (patch.appProperties) {
        const props = { ...file.appProperties };
        for (const [k, v] of Object.entries(patch.appProperties)) {
          if (v === null) delete props[k];
          else props[k] = v;
        }
        file.appProperties = props;
      }
      return answer(200, this.view(file));
    }
    if (info.method === 'POST' && info.path === '/drive/v3/files') {
      const meta = JSON.parse(body.toString('utf8')) as Partial<FakeFile>;
      return answer(200, this.view(this.create(meta)));
    }
    if (info.method === 'POST' && info.path === '/upload/drive/v3/files') {
      if (info.query.get('uploadType') !== 'multipart') return answer(400, { error: { code: 400, message: 'fake drive: only multipart uploads' } });
      const boundary = /boundary=([^;]+)/.exec(req.headers['content-type'] ?? '')?.[1];
      const parts = boundary ? parseMultipart(body, boundary) : [];
      if (parts.length !== 2) return answer(400, { error: { code: 400, message: `fake drive: expected 2 parts, got ${parts.length}` } });
      const meta = JSON.parse(parts[0]!.body.toString('utf8')) as Partial<FakeFile>;
      return answer(200, this.view(this.create(meta, parts[1]!.body)));
    }
    return answer(404, { error: { code: 404, message: `fake drive: no route ${info.method} ${info.path}` } });
  }

  private create(meta: Partial<FakeFile>, content?: Buffer): FakeFile {
    for (const p of meta.parents ?? []) {
      if (p !== 'root' && !this.files.has(p)) throw new Error(`fake drive: parent ${p} does not exist`);
    }
    return this.addFile({
      name: meta.name ?? 'Untitled',
      mimeType: meta.mimeType ?? 'application/octet-stream',
      parents: meta.parents ?? ['root'],
      ...(meta.description !== undefined ? { description: meta.description } : {}),
      ...(meta.appProperties ? { appProperties: meta.appProperties } : {}),
      ...(content ? { content: Buffer.from(content) } : {}),
    });
  }

  private token(body: Buffer, res: ServerResponse, log: LoggedRequest): void {
    const form = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
    this.tokenRequests.push(form);
    const grant = (refresh?: string): void => {
      const access = `ya29.${randomBytes(8).toString('hex')}`;
      this.accessTokens.add(access);
      log.status = 200;
      this.json(res, 200, { access_token: access, expires_in: 3599, token_type: 'Bearer', scope: 'https://www.googleapis.com/auth/drive.file', ...(refresh ? { refresh_token: refresh } : {}) });
    };
    const deny = (error: string): void => {
      log.status = 400;
      this.json(res, 400, { error, error_description: `fake: ${error}` });
    };
    if (form['grant_type'] === 'authorization_code') {
      const code = form['code'] ?? '';
      if (!this.codes.has(code)) return deny('invalid_grant');
      const challenge = this.codes.get(code);
      this.codes.delete(code);
      if (challenge !== undefined) {
        const verifier = form['code_verifier'] ?? '';
        const computed = createHash('sha256').update(verifier).digest('base64url');
        if (computed !== challenge) return deny('invalid_grant');
      }
      const refresh = `1//${randomBytes(12).toString('hex')}`;
      this.refreshTokens.add(refresh);
      return grant(refresh);
    }
    if (form['grant_type'] === 'refresh_token') {
      if (!this.refreshTokens.has(form['refresh_token'] ?? '')) return deny('invalid_grant');
      return grant();
    }
    deny('unsupported_grant_type');
  }
}
