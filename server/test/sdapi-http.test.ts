// /sdapi/v1 over plain HTTP against the test-double worker: the token on every route, FastAPI's 422
// for wrong types, unknown keys ignored, coded 501s for features the worker lacks, gallery saving
// by save_images / samples_save, interrupt, progress, and the keep-alive that gets a long
// synchronous job through a proxy that cuts requests whose answer has not started in time.
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPngTextChunks } from '../infotext/index.js';
import { startTestServer, type TestServer } from './helpers.js';

const ROUTES: [string, string][] = [
  ['POST', 'txt2img'],
  ['POST', 'img2img'],
  ['POST', 'extra-single-image'],
  ['POST', 'extra-batch-images'],
  ['POST', 'png-info'],
  ['GET', 'progress'],
  ['POST', 'interrupt'],
  ['POST', 'skip'],
  ['GET', 'options'],
  ['POST', 'options'],
  ['GET', 'cmd-flags'],
  ['GET', 'sd-models'],
  ['GET', 'sd-vae'],
  ['GET', 'samplers'],
  ['GET', 'schedulers'],
  ['GET', 'upscalers'],
  ['GET', 'latent-upscale-modes'],
  ['GET', 'loras'],
  ['GET', 'embeddings'],
  ['GET', 'hypernetworks'],
  ['GET', 'face-restorers'],
  ['GET', 'prompt-styles'],
  ['POST', 'refresh-checkpoints'],
  ['POST', 'refresh-loras'],
  ['POST', 'refresh-vae'],
  ['GET', 'memory'],
  ['GET', 'no-such-route'],
];

interface Txt2ImgAnswer {
  images: string[];
  parameters: Record<string, unknown>;
  info: string;
}

describe('/sdapi/v1 over HTTP (test-double engine)', () => {
  let server: TestServer;
  let auth: Record<string, string>;

  beforeAll(async () => {
    server = await startTestServer({ SDAPI_KEEPALIVE_MS: '100', PREVIEW_EVERY: '1' });
    auth = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
  });
  afterAll(async () => {
    await server?.dispose();
  });

  /**
   * Resolves once the whole answer is in: with the keep-alive, the status and headers of a
   * synchronous job arrive long before its body (and before the job has finished).
   */
  const post = async (path: string, body: unknown, headers = auth): Promise<Response> => {
    const res = await fetch(`${server.url}/sdapi/v1/${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    return new Response(await res.text(), { status: res.status, headers: res.headers });
  };
  const get = (path: string, headers = auth) => fetch(`${server.url}/sdapi/v1/${path}`, { headers });

  it('answers 401 on every route without the token, and with a wrong one', async () => {
    for (const [method, path] of ROUTES) {
      const none = await fetch(`${server.url}/sdapi/v1/${path}`, { method, headers: { 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{}' } : {}) });
      expect(none.status, `${method} ${path}`).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Basic/);
      const wrong = await fetch(`${server.url}/sdapi/v1/${path}`, { method, headers: { authorization: 'Basic ' + Buffer.from('a:wrong').toString('base64') } });
      expect(wrong.status, `${method} ${path}`).toBe(401);
    }
  });

  it('takes the token as Bearer or as the Basic password (any user name)', async () => {
    const basic = { authorization: 'Basic ' + Buffer.from(`whoever:${server.token}`).toString('base64') };
    expect((await get('samplers', basic)).status).toBe(200);
    const samplers = (await (await get('samplers')).json()) as { name: string; aliases: string[] }[];
    expect(samplers.map((s) => s.name)).toContain('DPM++ 2M');
    expect((await get('no-such-route')).status).toBe(404);
  });

  it('answers 422 with FastAPI details for wrong types, listing every bad field', async () => {
    const res = await post('txt2img', { steps: 'twenty', width: [512], send_images: 'maybe', styles: 'x', prompt: { a: 1 } });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { detail: { loc: unknown[]; msg: string; type: string }[] };
    expect(body.detail).toEqual(
      expect.arrayContaining([
        { loc: ['body', 'steps'], msg: 'value is not a valid integer', type: 'type_error.integer' },
        { loc: ['body', 'width'], msg: 'value is not a valid integer', type: 'type_error.integer' },
        { loc: ['body', 'send_images'], msg: 'value could not be parsed to a boolean', type: 'type_error.bool' },
        { loc: ['body', 'styles'], msg: 'value is not a valid list', type: 'type_error.list' },
        { loc: ['body', 'prompt'], msg: 'str type expected', type: 'type_error.str' },
      ]),
    );
    expect(body.detail).toHaveLength(5);
    // Easel's own limits come back at the A1111 field's location.
    const odd = (await (await post('txt2img', { width: 500, sampler_name: 'Nope' })).json()) as { detail: { loc: unknown[]; msg: string }[] };
    expect(odd.detail).toContainEqual(expect.objectContaining({ loc: ['body', 'width'], msg: 'must be a multiple of 8, got 500' }));
    expect(odd.detail).toContainEqual(expect.objectContaining({ loc: ['body', 'sampler_name'], msg: 'unknown sampler "Nope"' }));
    const notJson = await fetch(`${server.url}/sdapi/v1/txt2img`, { method: 'POST', headers: auth, body: '{"prompt":' });
    expect(notJson.status).toBe(422);
    expect(((await notJson.json()) as { detail: { type: string }[] }).detail[0]!.type).toBe('value_error.jsondecode');
    // Nothing was queued by any of these.
    expect(server.queue.queuedCount).toBe(0);
  });

  it('ignores unknown keys, coerces as pydantic does, and answers images + parameters + info', async () => {
    const res = await post('txt2img', { prompt: 'a cat', steps: '3', width: 64, height: 64, seed: 42, use_deprecated_controlnet: false, made_up: { x: 1 }, save_images: false });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Txt2ImgAnswer;
    expect(body.images).toHaveLength(1);
    expect(body.parameters).not.toHaveProperty('made_up');
    expect(body.parameters).toMatchObject({ prompt: 'a cat', steps: 3, sampler_index: 'Euler', cfg_scale: 7 });
    const info = JSON.parse(body.info) as Record<string, unknown>;
    expect(info).toMatchObject({ prompt: 'a cat', seed: 42, all_seeds: [42], sampler_name: 'Euler', steps: 3, width: 64, height: 64, index_of_first_image: 0 });
    const png = Buffer.from(body.images[0]!, 'base64');
    expect((info.infotexts as string[])[0]).toBe(readPngTextChunks(png).parameters);
    expect((info.infotexts as string[])[0]).toContain('Steps: 3, Sampler: Euler');
    // The infotext alone regenerates it (A1111 v1.8+ `infotext`), fields set in the request win.
    const again = (await (await post('txt2img', { infotext: (info.infotexts as string[])[0], cfg_scale: 4 })).json()) as Txt2ImgAnswer;
    expect(JSON.parse(again.info)).toMatchObject({ prompt: 'a cat', seed: 42, steps: 3, width: 64, height: 64, cfg_scale: 4 });
  });

  it('answers a coded 501 naming hires fix, ADetailer, upscaling and other missing features', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['txt2img', { enable_hr: true, hr_scale: 2 }, 'hires'],
      ['txt2img', { alwayson_scripts: { ADetailer: { args: [true, false, { ad_model: 'face_yolov8n.pt' }] } } }, 'adetailer'],
      ['txt2img', { restore_faces: true }, 'restore_faces'],
      ['txt2img', { subseed_strength: 0.5 }, 'variation_seed'],
      ['extra-single-image', { image: 'AAAA', upscaler_1: 'R-ESRGAN 4x+' }, 'upscale'],
      ['extra-batch-images', { imageList: [] }, 'upscale'],
    ];
    for (const [path, body, feature] of cases) {
      const res = await post(path, { steps: 2, width: 64, height: 64, ...body });
      expect(res.status, feature).toBe(501);
      expect(await res.json()).toMatchObject({ code: 'not_implemented', feature, detail: expect.stringContaining('not available') });
    }
    // ADetailer switched off (first arg false) or with no model is not a request for it.
    const off = await post('txt2img', { steps: 1, width: 64, height: 64, alwayson_scripts: { ADetailer: { args: [false, false, { ad_model: 'face_yolov8n.pt' }] } } });
    expect(off.status).toBe(200);
    expect((await post('txt2img', { alwayson_scripts: { 'x/y/z plot': { args: [1] } } })).status).toBe(422);
    expect(server.queue.queuedCount).toBe(0);
  });

  it('keeps images in the gallery by save_images or the samples_save option, never otherwise', async () => {
    const count = () => server.gallery.list({ limit: 200 }).items.length;
    const before = count();
    expect((await post('options', { samples_save: false })).status).toBe(200);
    expect((await (await get('options')).json()) as Record<string, unknown>).toMatchObject({ samples_save: false });
    await post('txt2img', { steps: 1, width: 64, height: 64, save_images: false });
    expect(count()).toBe(before);
    const saved = (await (await post('txt2img', { prompt: 'kept', steps: 1, width: 64, height: 64, seed: 5, save_images: true })).json()) as Txt2ImgAnswer;
    expect(count()).toBe(before + 1);
    const row = server.gallery.list({ limit: 1 }).items[0]!;
    expect(row.prompt).toBe('kept');
    // The gallery's PNG is the answer's PNG, byte for byte.
    expect(Buffer.compare(Buffer.from(saved.images[0]!, 'base64'), await import('node:fs').then((fs) => fs.readFileSync(server.gallery.filePath(row.id)!)))).toBe(0);
    expect((await post('options', { samples_save: true })).status).toBe(200);
    const r3 = await post('txt2img', { steps: 1, width: 64, height: 64 });
    expect(r3.status, await r3.text()).toBe(200);
    expect(count()).toBe(before + 2);
  });

  it('reports progress with a preview while a job runs, and interrupt stops it', async () => {
    const answer = fetch(`${server.url}/sdapi/v1/txt2img`, { method: 'POST', headers: auth, body: JSON.stringify({ steps: 150, width: 64, height: 64, save_images: false }) });
    let seen: Record<string, unknown> | undefined;
    for (let i = 0; i < 200 && !seen; i++) {
      await new Promise((r) => setTimeout(r, 25));
      const p = (await (await get('progress')).json()) as { progress: number; state: { sampling_step: number }; current_image: string | null };
      if (p.state.sampling_step >= 3 && p.current_image) seen = p;
    }
    expect(seen).toMatchObject({ state: { job_count: 1, sampling_steps: 150 }, current_image: expect.any(String) });
    expect((seen!.progress as number) > 0.01).toBe(true);
    const skipped = (await (await get('progress?skip_current_image=true')).json()) as { current_image: unknown };
    expect(skipped.current_image).toBeNull();
    expect(await (await post('interrupt', {})).json()).toEqual({});
    const res = await answer;
    expect(res.status).toBe(200);
    expect(((await res.json()) as Txt2ImgAnswer).images).toEqual([]);
    const idle = (await (await get('progress')).json()) as { progress: number; state: { job_count: number } };
    expect(idle).toMatchObject({ progress: 0, state: { job_count: 0 } });
  });

  it('keeps a long synchronous job alive through a proxy that cuts requests silent for too long', async () => {
    // A stand-in for a Cloudflare quick tunnel: it drops any request whose answer has not started
    // within LIMIT_MS (100 s there; shortened here, with the server's keep-alive shortened to match).
    const LIMIT_MS = 400;
    const target = new URL(server.url);
    const proxy = createServer((req, res) => {
      const up = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (upRes: IncomingMessage) => {
        clearTimeout(cut);
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', () => res.destroy());
      const cut = setTimeout(() => {
        up.destroy();
        res.writeHead(524).end('timeout');
      }, LIMIT_MS);
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const started = Date.now();
      // 60 steps × 20 ms ≈ 1.2 s: three times the proxy's limit.
      const res = await fetch(`${proxyUrl}/sdapi/v1/txt2img`, { method: 'POST', headers: auth, body: JSON.stringify({ steps: 60, width: 64, height: 64, seed: 9 }) });
      const text = await res.text();
      expect(Date.now() - started).toBeGreaterThan(LIMIT_MS * 2);
      expect(res.status).toBe(200);
      expect(text.startsWith(' ')).toBe(true);
      const body = JSON.parse(text) as Txt2ImgAnswer;
      expect(JSON.parse(body.info)).toMatchObject({ seed: 9, steps: 60 });
      expect(body.images).toHaveLength(1);
      // Without the keep-alive the same proxy cuts it.
      const quiet = await startTestServer({ SDAPI_KEEPALIVE_MS: '0' });
      try {
        const quietTarget = new URL(quiet.url);
        target.hostname = quietTarget.hostname;
        target.port = quietTarget.port;
        const cut = await fetch(`${proxyUrl}/sdapi/v1/txt2img`, {
          method: 'POST',
          headers: { ...auth, authorization: `Bearer ${quiet.token}` },
          body: JSON.stringify({ steps: 60, width: 64, height: 64 }),
        });
        expect(cut.status).toBe(524);
      } finally {
        await quiet.dispose();
      }
    } finally {
      proxy.close();
    }
  });
});
