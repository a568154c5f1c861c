// Test plumbing for Drive backup: a fake Drive, an OAuth connection made through the real consent
// flow against it, and a DriveService over a temp gallery whose retries wait no real time.
import { pino } from 'pino';
import { IoLane } from '../../jobs/io-lane.js';
import type { DriveStatusEvent } from '../../protocol/events.js';
import { tempGallery, makePng, meta, type TempGallery } from '../../gallery/test/helpers.js';
import type { ImageRecord, NewImageMeta } from '../../gallery/gallery-store.js';
import { formatInfotext } from '../../infotext/format-infotext.js';
import { DriveAuth } from '../auth.js';
import { DriveService, type DriveServiceOptions } from '../drive-service.js';
import { UploadLedger } from '../upload-ledger.js';
import { FakeDrive } from './fake-drive.js';

export const CLIENT = { clientId: 'test-client.apps.googleusercontent.com', clientSecret: 'test-secret' };

export function oauthFor(fake: FakeDrive, dataDir: string): DriveAuth {
  return new DriveAuth({ dataDir, ...CLIENT, redirectUri: 'http://localhost', tokenUrl: fake.tokenUrl });
}

/** Runs the consent flow as a user would: open the URL, approve (the fake issues a code), paste the redirect URL. */
export async function connectOAuth(auth: Pick<DriveAuth, 'startConnect' | 'finishConnect'>, fake: FakeDrive): Promise<void> {
  const url = new URL(await auth.startConnect());
  const code = fake.issueCode(url.searchParams.get('code_challenge') ?? undefined);
  await auth.finishConnect(`http://localhost/?state=${url.searchParams.get('state')}&code=${encodeURIComponent(code)}&scope=drive.file`);
}

export interface DriveRig {
  fake: FakeDrive;
  gallery: TempGallery;
  auth: DriveAuth;
  ledger: UploadLedger;
  service: DriveService;
  lane: IoLane;
  statuses: DriveStatusEvent[];
  /** Backoff delays the retry policy asked for (no real waiting). */
  delays: number[];
  /** A new ledger + service on the same data dir and fake (a server restart). */
  restart(): DriveService;
  cleanup(): Promise<void>;
}

export async function driveRig(opts: { fake?: FakeDrive; connect?: boolean; service?: Partial<DriveServiceOptions> } = {}): Promise<DriveRig> {
  const fake = opts.fake ?? (await new FakeDrive().start());
  const gallery = await tempGallery();
  const auth = oauthFor(fake, gallery.dir);
  if (opts.connect !== false) await connectOAuth(auth, fake);
  const lane = new IoLane(2);
  const statuses: DriveStatusEvent[] = [];
  const delays: number[] = [];
  const make = (): { ledger: UploadLedger; service: DriveService } => {
    const ledger = new UploadLedger(gallery.db);
    const service = new DriveService({
      auth,
      ledger,
      gallery: gallery.store,
      runIo: (task) => lane.run(task),
      folderName: 'StableDiffusion_Gallery',
      parentId: 'root',
      syncIntervalMs: 0,
      retry: {
        baseDelayMs: 1,
        maxAttempts: 5,
        sleep: (ms) => {
          delays.push(ms);
          return Promise.resolve();
        },
      },
      apiRoot: fake.url,
      broadcast: (s) => statuses.push(s),
      logger: pino({ level: 'silent' }),
      ...opts.service,
    });
    return { ledger, service };
  };
  const first = make();
  const rig: DriveRig = {
    fake,
    gallery,
    auth,
    ledger: first.ledger,
    service: first.service,
    lane,
    statuses,
    delays,
    restart() {
      gallery.reopen();
      const next = make();
      rig.ledger = next.ledger;
      rig.service = next.service;
      return next.service;
    },
    async cleanup() {
      await rig.service.stop();
      lane.close();
      await gallery.cleanup();
      if (!opts.fake) await fake.stop();
    },
  };
  return rig;
}

/** Adds a real image (PNG with its infotext) to the gallery, optionally at a given time. */
export async function addImage(gallery: TempGallery, overrides: Partial<NewImageMeta> = {}, color = '#336699'): Promise<ImageRecord> {
  const m = meta(overrides);
  const infotext = formatInfotext({
    prompt: m.prompt,
    negative_prompt: m.negative_prompt,
    steps: m.steps,
    sampler: m.sampler,
    cfg_scale: m.cfg_scale,
    seed: m.seed,
    width: m.width,
    height: m.height,
    model: m.model,
  });
  return gallery.store.addImage({ png: await makePng(m.width, m.height, color), infotext, meta: m });
}
