// GET /api/models[?type=lora]: the registry's entries, the same list `get_models` answers over
// Socket.IO (behind the token like every /api route), for scripts and A1111-style tooling.
import express, { type Router } from 'express';
import { z } from 'zod';
import { MODEL_TYPES, type ModelEntry, type ModelType } from '../protocol/actions.js';
import { EaselError } from '../protocol/errors.js';

export interface ModelRoutesDeps {
  listModels: (type?: ModelType) => Promise<ModelEntry[]>;
}

export const ModelsQuerySchema = z.object({ type: z.enum(MODEL_TYPES).optional() }).strict();
const QuerySchema = ModelsQuerySchema;

export function createModelRoutes(deps: ModelRoutesDeps): Router {
  const router = express.Router();
  router.get('/models', (req, res, next) => {
    const parsed = QuerySchema.safeParse(req.query);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.code === 'unrecognized_keys' ? (issue.keys[0] ?? 'query') : issue.path.join('.') || 'query';
      next(new EaselError('invalid_params', `${field}: ${issue.message}`, { field }));
      return;
    }
    deps.listModels(parsed.data.type).then((models) => res.json({ models }), next);
  });
  return router;
}
