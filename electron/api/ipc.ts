/**
 * What Electron's IPC handlers do, without Electron: accept a call only from a frame of the
 * app's own origin, then validate and dispatch it like every other transport.
 */
import type { Connection } from './connection';
import type { Envelope } from './contract';
import type { Handlers } from './dispatch';
import { dispatch } from './dispatch';

/** The origin the app's own pages are served from (the app:// scheme in electron/main.ts). */
export const APP_ORIGIN = 'app://microlab';

/** Compares scheme and host: WHATWG URL gives non-special schemes like app: an opaque "null" origin. */
export function isAppUrl(url: string | undefined): boolean {
  if (!url) return false;
  try {
    const { protocol, host } = new URL(url);
    return `${protocol}//${host}` === APP_ORIGIN;
  } catch {
    return false;
  }
}

/** A page MicroLab publishes on this machine (the storefront): http on 127.0.0.1 with a port. */
export function isStorefrontUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return (
      u.protocol === 'http:' && u.hostname === '127.0.0.1' && u.port !== '' && !u.username && !u.password
    );
  } catch {
    return false;
  }
}

export async function handleIpcCall(
  handlers: Handlers,
  senderUrl: string | undefined,
  method: string,
  input: unknown,
  connection?: Connection,
): Promise<Envelope<unknown>> {
  if (!isAppUrl(senderUrl)) {
    return {
      ok: false,
      error: { code: 'forbidden', message: `IPC from ${senderUrl || 'an unknown frame'} refused` },
    };
  }
  return dispatch(handlers, method, input, connection);
}
