/**
 * The browser transport's client: the same `Api` the preload bridge gives, over a WebSocket.
 * It runs in the browser UI and in Node (tests, benchmarks), so it takes the WebSocket
 * constructor as a parameter and imports nothing from Node.
 */
import type { Api, EventName, Events, MethodInput, MethodName, MethodOutput } from './contract';
import { fromErrorShape } from '../errors';
import { ApiError } from '../errors';
import type { CallFrame, ServerFrame } from './ws-protocol';
import { TOKEN_PARAM, WS_PATH } from './ws-protocol';

interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(): void;
  // `never` parameters accept both the DOM's and the ws package's event types.
  onopen: ((ev: never) => void) | null;
  onclose: ((ev: never) => void) | null;
  onerror: ((ev: never) => void) | null;
  onmessage: ((ev: never) => void) | null;
}

export type SocketConstructor = new (url: string) => SocketLike;

export interface WsApi extends Api {
  close(): void;
}

/** `origin` is the server's http origin, e.g. http://127.0.0.1:4700. Resolves once connected. */
export function connectWsApi(origin: string, token: string, Socket: SocketConstructor): Promise<WsApi> {
  const url = `${origin.replace(/^http/, 'ws')}${WS_PATH}?${TOKEN_PARAM}=${encodeURIComponent(token)}`;
  const socket = new Socket(url);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  let nextId = 1;
  let closedError: ApiError | undefined;

  const failAll = (error: ApiError) => {
    closedError = error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };

  socket.onmessage = (ev: { data: unknown }) => {
    const frame = JSON.parse(String(ev.data)) as ServerFrame;
    if ('id' in frame) {
      const waiter = pending.get(frame.id);
      pending.delete(frame.id);
      if (!waiter) return;
      if (frame.reply.ok) waiter.resolve(frame.reply.result);
      else waiter.reject(fromErrorShape(frame.reply.error));
    } else {
      for (const listener of listeners.get(frame.event) ?? [])
        (listener as (p: unknown) => void)(frame.payload);
    }
  };

  const api: WsApi = {
    call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
      if (closedError) return Promise.reject(closedError);
      const id = nextId++;
      const frame: CallFrame = { id, method, input };
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        socket.send(JSON.stringify(frame));
      });
    },
    on<E extends EventName>(event: E, listener: (payload: Events[E]) => void) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (payload: never) => void);
      return () => set.delete(listener as (payload: never) => void);
    },
    close: () => socket.close(),
  };

  return new Promise((resolve, reject) => {
    let opened = false;
    socket.onopen = () => {
      opened = true;
      resolve(api);
    };
    socket.onerror = () => {
      /* the close event that follows says what happened */
    };
    socket.onclose = () => {
      const error = opened
        ? new ApiError('disconnected', 'the connection to MicroLab was closed')
        : new ApiError(
            'refused',
            `could not connect to MicroLab at ${origin}: the token in the address is wrong or missing, or MicroLab is not running`,
            'Open the address MicroLab printed when it started: it carries a new token each run.',
          );
      failAll(error);
      if (!opened) reject(error);
    };
  });
}
