import { describe, expect, it } from 'vitest';
import {
  activeServer,
  defaultServerName,
  forgetServer,
  loadServerBook,
  parseServerLink,
  rememberServer,
  saveServerBook,
  switchServer,
  syncWithSettings,
  takeServerLink,
  validServerUrl,
  type LinkHistory,
  type ServerBook,
} from './server-link.js';
import { loadSettings, saveSettings } from './settings.js';
import { memoryStore } from './testing/memory-store.js';

function recordingHistory(): LinkHistory & { urls: string[] } {
  const urls: string[] = [];
  return { urls, replaceState: (_d, _u, url) => void urls.push(String(url)) };
}

const TUNNEL = 'https://quiet-fox-42.trycloudflare.com';

describe('parseServerLink', () => {
  it('reads server, token and name from the fragment', () => {
    const hash = `#server=${encodeURIComponent(TUNNEL)}&token=${encodeURIComponent('a/b+c=')}&name=${encodeURIComponent('Colab T4')}`;
    expect(parseServerLink(hash)).toEqual({ serverUrl: TUNNEL, token: 'a/b+c=', name: 'Colab T4' });
  });

  it('normalises the URL and accepts a link without token or name', () => {
    expect(parseServerLink('#server=http%3A%2F%2F127.0.0.1%3A7860%2F')).toEqual({ serverUrl: 'http://127.0.0.1:7860', token: '' });
    expect(parseServerLink('#/?server=my-host.example&token=t')).toEqual({ serverUrl: 'https://my-host.example', token: 't' });
  });

  it('is not fooled by routes, bare tokens or non-http URLs', () => {
    expect(parseServerLink('#/gallery')).toBeNull();
    expect(parseServerLink('#token=abc')).toBeNull();
    expect(parseServerLink('')).toBeNull();
    expect(parseServerLink('#server=javascript%3Aalert(1)&token=t')).toBeNull();
    expect(parseServerLink('#server=&token=t')).toBeNull();
    expect(validServerUrl('ftp://x.example')).toBeNull();
    expect(validServerUrl('https://ok.example/sub/')).toBe('https://ok.example/sub');
  });
});

describe('the server book', () => {
  it('adds, updates by URL, switches and forgets', () => {
    let book: ServerBook = { servers: [], activeId: null };
    const a = rememberServer(book, { serverUrl: `${TUNNEL}/`, token: 't1', name: 'Colab' });
    book = a.book;
    expect(activeServer(book)).toEqual({ id: a.server.id, name: 'Colab', serverUrl: TUNNEL, token: 't1' });
    const b = rememberServer(book, { serverUrl: 'http://127.0.0.1:7860', token: 't2' });
    book = b.book;
    expect(book.servers.map((s) => s.name)).toEqual(['Colab', '127.0.0.1:7860']);
    expect(book.activeId).toBe(b.server.id);
    // A fresh link to a known URL replaces its token and keeps its id and name.
    const again = rememberServer(book, { serverUrl: TUNNEL, token: 't3' });
    expect(again.server.id).toBe(a.server.id);
    expect(again.book.servers).toHaveLength(2);
    expect(activeServer(again.book)).toMatchObject({ name: 'Colab', token: 't3' });
    book = switchServer(again.book, b.server.id);
    expect(activeServer(book)?.serverUrl).toBe('http://127.0.0.1:7860');
    expect(switchServer(book, 'nope')).toBe(book);
    book = forgetServer(book, b.server.id);
    expect(book.servers.map((s) => s.serverUrl)).toEqual([TUNNEL]);
    expect(book.activeId).toBe(a.server.id);
    expect(forgetServer(book, a.server.id)).toEqual({ servers: [], activeId: null });
    expect(() => rememberServer(book, { serverUrl: 'mailto:x', token: '' })).toThrow(/not an http/);
  });

  it('round-trips through storage and survives junk in it', () => {
    const store = memoryStore();
    const { book } = rememberServer({ servers: [], activeId: null }, { serverUrl: TUNNEL, token: 't' });
    saveServerBook(store, book);
    expect(loadServerBook(store)).toEqual(book);
    store.setItem('easel.servers', '{not json');
    expect(loadServerBook(store)).toEqual({ servers: [], activeId: null });
    store.setItem('easel.servers', JSON.stringify([{ id: 1 }, book.servers[0]]));
    expect(loadServerBook(store).servers).toEqual(book.servers);
  });

  it('migrates the single server of the older settings into the list once', () => {
    const store = memoryStore();
    saveSettings(store, { serverUrl: 'old-host.example:8443', token: 'old-token' });
    const book = loadServerBook(store);
    expect(book.servers).toHaveLength(1);
    expect(activeServer(book)).toMatchObject({ serverUrl: 'https://old-host.example:8443', token: 'old-token', name: 'old-host.example:8443' });
    // Stored now: the same id comes back.
    expect(loadServerBook(store).activeId).toBe(book.activeId);
    expect(loadServerBook(memoryStore())).toEqual({ servers: [], activeId: null });
  });

  it('follows settings changed elsewhere (a #token= link)', () => {
    const start = rememberServer({ servers: [], activeId: null }, { serverUrl: TUNNEL, token: 'old', name: 'Colab' }).book;
    const updated = syncWithSettings(start, { serverUrl: TUNNEL, token: 'new' });
    expect(activeServer(updated)).toMatchObject({ name: 'Colab', token: 'new' });
    expect(syncWithSettings(updated, { serverUrl: TUNNEL, token: 'new' })).toBe(updated);
    // The page origin with no token is not a server worth listing yet.
    expect(syncWithSettings(updated, { serverUrl: 'http://127.0.0.1:7860', token: '' })).toBe(updated);
    const added = syncWithSettings(updated, { serverUrl: 'http://127.0.0.1:7860', token: 'tok' });
    expect(added.servers).toHaveLength(2);
    expect(activeServer(added)?.serverUrl).toBe('http://127.0.0.1:7860');
  });

  it('names servers by host', () => {
    expect(defaultServerName('http://127.0.0.1:7860')).toBe('127.0.0.1:7860');
    expect(defaultServerName(TUNNEL)).toBe('quiet-fox-42.trycloudflare.com');
  });
});

describe('takeServerLink', () => {
  it('remembers the linked server and removes the fragment from the address bar', () => {
    const store = memoryStore();
    const hist = recordingHistory();
    const hash = `#server=${encodeURIComponent(TUNNEL)}&token=secret-1&name=Colab`;
    const server = takeServerLink({ hash, pathname: '/easel/', search: '?utm=x' }, hist, store);
    expect(server).toMatchObject({ serverUrl: TUNNEL, token: 'secret-1', name: 'Colab' });
    expect(hist.urls).toEqual(['/easel/?utm=x']);
    const book = loadServerBook(store);
    expect(activeServer(book)?.id).toBe(server!.id);
    // The link did not touch the connection settings: the caller applies them.
    expect(loadSettings(store, '').token).toBe('');
  });

  it('leaves other fragments alone and still strips a malformed link', () => {
    const store = memoryStore();
    const hist = recordingHistory();
    expect(takeServerLink({ hash: '#/gallery', pathname: '/', search: '' }, hist, store)).toBeNull();
    expect(takeServerLink({ hash: '#token=abc', pathname: '/', search: '' }, hist, store)).toBeNull();
    expect(hist.urls).toEqual([]);
    expect(takeServerLink({ hash: '#server=javascript%3Ax&token=secret', pathname: '/', search: '' }, hist, store)).toBeNull();
    expect(hist.urls).toEqual(['/']);
    expect(store.map.size).toBe(0);
  });
});
