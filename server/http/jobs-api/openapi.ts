// GET /api/openapi.json: an OpenAPI 3.1 description of Easel's own REST routes, with the request
// bodies of POST /api/jobs generated from the same zod schemas that validate them (z.toJSONSchema,
// input side: sampler names and base64 images are what a client sends).
import { z } from 'zod';
import type { ActionSchemas } from '../../protocol/actions.js';
import { SERVER_VERSION } from '../info.js';

type Json = Record<string, unknown>;

const errorSchema: Json = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' }, retry_after_s: { type: 'number' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
};

const json = (schema: Json, description = 'OK'): Json => ({ description, content: { 'application/json': { schema } } });
const errors = (...codes: number[]): Json =>
  Object.fromEntries(codes.map((c) => [String(c), json({ $ref: '#/components/schemas/Error' }, { 400: 'invalid parameters (the message names the field)', 401: 'token missing or wrong', 404: 'not found', 409: 'already finished', 429: 'rate limited', 503: 'engine unavailable or queue full' }[c] ?? 'error')]));
const idParam: Json = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } };
const clientParam: Json = {
  name: 'X-Client-Id',
  in: 'header',
  required: false,
  description: "Owner of the jobs this call queues or follows (default `api`); the PWA's client id shares its jobs",
  schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
};
const sse = (description: string): Json => ({
  description,
  content: {
    'text/event-stream': {
      schema: { type: 'string', description: 'events `queued`, `job:status`, `progress`, `preview` (data: base64 JPEG), `complete`, `error`; each with an `id:` for Last-Event-ID' },
    },
  },
});

/** Builds the document (cheap; built per request so the limits in the schemas are the live ones). */
export function buildOpenApi(schemas: ActionSchemas): Json {
  const input = (s: z.ZodType): Json => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Json;
  const withKind = (kind: string, s: z.ZodType): Json => {
    const schema = input(s);
    const props = (schema.properties ?? {}) as Json;
    return { ...schema, properties: { kind: { const: kind, description: kind === 'generate' ? 'optional; generate is the default' : undefined }, ...props } };
  };
  const jobSummary: Json = {
    type: 'object',
    properties: {
      job: {
        type: 'object',
        properties: {
          job_id: { type: 'string' },
          kind: { enum: ['generate', 'upscale', 'adetailer'] },
          status: { enum: ['queued', 'running', 'completed', 'failed', 'cancelled'] },
          position: { type: ['integer', 'null'] },
          progress: { type: 'object', properties: { step: { type: 'integer' }, total: { type: 'integer' } } },
          image_ids: { type: 'array', items: { type: 'string' } },
          images: { type: 'array', items: { type: 'object', description: 'gallery image with signed `url` and `thumb_url`' } },
          error: { type: ['object', 'null'] },
        },
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: { title: 'Easel REST API', version: SERVER_VERSION, description: 'Easel\'s own REST routes. The AUTOMATIC1111-compatible API lives at /sdapi/v1 (see docs/api.md).' },
    security: [{ bearer: [] }, { basic: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'the server token' },
        basic: { type: 'http', scheme: 'basic', description: 'any user name, the token as the password' },
      },
      schemas: { Error: errorSchema },
    },
    paths: {
      '/api/health': { get: { summary: 'health check (no token)', security: [], responses: { 200: json({ type: 'object' }) } } },
      '/api/info': { get: { summary: 'generation parameter schema, samplers, schedulers, models, limits, engine capabilities', responses: { 200: json({ type: 'object' }), ...errors(401) } } },
      '/api/models': {
        get: {
          summary: 'model files with hashes, family and metadata',
          parameters: [{ name: 'type', in: 'query', required: false, schema: { enum: ['checkpoint', 'lora', 'vae', 'embedding', 'controlnet', 'upscaler', 'detector'] } }],
          responses: { 200: json({ type: 'object', properties: { models: { type: 'array', items: { type: 'object' } } } }), ...errors(400, 401) },
        },
      },
      '/api/images': { get: { summary: 'gallery page (keyset pagination: pass next_cursor as cursor)', responses: { 200: json({ type: 'object' }), ...errors(400, 401) } } },
      '/api/images/{id}': {
        get: { summary: 'one gallery image', parameters: [idParam], responses: { 200: json({ type: 'object' }), ...errors(401, 404) } },
        delete: { summary: 'delete one gallery image', parameters: [idParam], responses: { 200: json({ type: 'object' }), ...errors(401, 404) } },
      },
      '/api/images/zip': { post: { summary: 'zip of a selection', responses: { 200: { description: 'application/zip' }, ...errors(400, 401, 404) } } },
      '/api/png-info': { post: { summary: 'A1111 png-info of a base64 image (also ComfyUI/InvokeAI metadata)', responses: { 200: json({ type: 'object' }), ...errors(400, 401) } } },
      '/api/tokenize': { post: { summary: 'A1111 token count of a prompt', responses: { 200: json({ type: 'object' }), ...errors(400, 401) } } },
      '/api/jobs': {
        post: {
          summary: 'queue a job (the socket `generate`, `upscale` or `adetailer` payload plus `kind`); answers at once',
          parameters: [clientParam],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { oneOf: [withKind('generate', schemas.generate), withKind('upscale', schemas.upscale), withKind('adetailer', schemas.adetailer)] },
              },
            },
          },
          responses: {
            202: json({ type: 'object', properties: { job_id: { type: 'string' }, position: { type: 'integer' } }, required: ['job_id', 'position'] }, 'queued'),
            ...errors(400, 401, 429, 503),
          },
        },
      },
      '/api/jobs/{id}': {
        get: { summary: 'state, progress, result images with signed URLs', parameters: [idParam], responses: { 200: json(jobSummary), ...errors(401, 404) } },
        delete: {
          summary: 'cancel: a queued job is removed, a running one stops within one step',
          parameters: [idParam],
          responses: { 200: json({ type: 'object', properties: { job_id: { type: 'string' }, status: { enum: ['cancelled', 'cancelling'] } } }), ...errors(401, 404, 409) },
        },
      },
      '/api/jobs/{id}/events': {
        get: {
          summary: "server-sent events of one job (replays its events kept so far; ends after its final status)",
          parameters: [idParam, { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'integer' } }],
          responses: { 200: sse('event stream'), ...errors(401, 404) },
        },
      },
      '/api/events': {
        get: {
          summary: "server-sent events of the caller's jobs (from now, or from Last-Event-ID)",
          parameters: [clientParam, { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'integer' } }],
          responses: { 200: sse('event stream'), ...errors(401) },
        },
      },
      '/api/openapi.json': { get: { summary: 'this document', responses: { 200: json({ type: 'object' }), ...errors(401) } } },
    },
  };
}
