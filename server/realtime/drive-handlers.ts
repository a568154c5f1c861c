// Socket actions of Google Drive backup: drive_status, drive_connect (consent URL, then the pasted
// code), drive_disconnect, drive_sync and drive_restore. Sync and restore answer as soon as they
// start; their progress and outcome arrive as `drive:status` broadcasts.
import { EaselError } from '../protocol/errors.js';
import type { ActionHandler } from './ack.js';
import type { DriveControl, HandlerDeps } from './ports.js';

export function driveHandlers(deps: HandlerDeps) {
  const drive = (): DriveControl => {
    if (!deps.drive) throw new EaselError('drive_not_configured', 'Drive backup is not available on this server');
    return deps.drive;
  };

  const status: ActionHandler<'drive_status'> = () => ({ status: drive().status() });

  const connect: ActionHandler<'drive_connect'> = async (p) => {
    const d = drive();
    const res = await d.connect(p?.code);
    return { status: d.status(), ...(res.auth_url ? { auth_url: res.auth_url } : {}) };
  };

  const disconnect: ActionHandler<'drive_disconnect'> = async () => {
    const d = drive();
    await d.disconnect();
    return { status: d.status() };
  };

  const sync: ActionHandler<'drive_sync'> = () => {
    const d = drive();
    d.requireConnected();
    const { started } = d.sync();
    return { status: d.status(), started };
  };

  const restore: ActionHandler<'drive_restore'> = () => {
    const d = drive();
    d.requireConnected();
    const { started } = d.restore();
    return { status: d.status(), started };
  };

  return { drive_status: status, drive_connect: connect, drive_disconnect: disconnect, drive_sync: sync, drive_restore: restore };
}
