import { useEffect, useState } from 'react';
import type { Api } from '../../../electron/api/contract';
import { connectApi } from '../api';
import type { UiError } from '../errors';
import { toUiError } from '../errors';

export type Connection =
  { state: 'connecting' } | { state: 'connected'; api: Api } | { state: 'failed'; error: UiError };

/** Connects to MicroLab once (Electron bridge or WebSocket) and closes the connection on unmount. */
export function useConnection(): Connection {
  const [connection, setConnection] = useState<Connection>({ state: 'connecting' });
  useEffect(() => {
    let live = true;
    let opened: Api | undefined;
    connectApi().then(
      (api) => {
        opened = api;
        if (live) setConnection({ state: 'connected', api });
        else close(api);
      },
      (err: unknown) => {
        if (live) setConnection({ state: 'failed', error: toUiError(err) });
      },
    );
    return () => {
      live = false;
      if (opened) close(opened);
    };
  }, []);
  return connection;
}

/** The WebSocket transport can be closed; the Electron bridge cannot (and need not) be. */
function close(api: Api): void {
  (api as Api & { close?: () => void }).close?.();
}
