import type { Envelope, EventName, Events } from './contract';

/** Frames of the browser transport. The token travels in the URL of the WebSocket handshake. */
export interface CallFrame {
  id: number;
  method: string;
  input: unknown;
}

export type ServerFrame =
  | { id: number; reply: Envelope<unknown> }
  | { [E in EventName]: { event: E; payload: Events[E] } }[EventName];

/** The WebSocket path, and the query parameter that carries the per-run token. */
export const WS_PATH = '/api';
export const TOKEN_PARAM = 'token';
