// The starter-model catalog (get_starter_models): curated models with what each is for, its size
// and licence, and whether this server can run it. A download is the ordinary `download_model`
// with the entry's source, type, file name and sha256, so it shows up with every other download.
import type { ConnectionManager } from './connection.js';
import { startDownload } from './models.js';
import type { ModelType, StarterModel } from './protocol.js';

export function listStarterModels(conn: ConnectionManager): Promise<StarterModel[]> {
  return conn.request('get_starter_models', {}, { queue: false }).then((r) => r.models);
}

/** Starts the download of an available entry; resolves with the download's job id. */
export function downloadStarter(conn: ConnectionManager, m: StarterModel): Promise<string> {
  return startDownload(conn, {
    source: m.source,
    // The server offers only entries whose type download_model takes.
    type: m.type as ModelType,
    ...(m.filename ? { filename: m.filename } : {}),
    ...(m.sha256 ? { sha256: m.sha256 } : {}),
  });
}

/** Entries for a first run: what can be downloaded here, the recommended one first. */
export function firstRunChoices(models: readonly StarterModel[]): StarterModel[] {
  return models.filter((m) => m.available && m.type === 'checkpoint').sort((a, b) => Number(b.recommended ?? false) - Number(a.recommended ?? false));
}
