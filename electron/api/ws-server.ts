/**
 * The browser transport: an HTTP server on 127.0.0.1 that serves the built UI and, on
 * /api, a WebSocket carrying the same API as Electron's IPC. A per-run token, checked in
 * constant time during the handshake, keeps other local users and web pages out; the Origin
 * header, when a browser sends one, must be our own.
 *
 * Any web page the student visits can send requests here, so nothing a client sends may end
 * the process or leave a promise unhandled (issue 15): the Host header must name the address
 * served (a page whose name was rebound to 127.0.0.1, "DNS rebinding", sends its own name;
 * `localhost:PORT` is redirected to the printed address), every handler is guarded, frames
 * are bounded (MAX_FRAME_BYTES), calls in flight per connection (MAX_CALLS_IN_FLIGHT),
 * connections (MAX_CONNECTIONS) and what waits for a client that does not read
 * (MAX_CLIENT_BACKLOG_BYTES). What the server did not expect is logged, without the token,
 * and the server goes on.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import type { RawData, WebSocket } from 'ws';
import { createConnection } from './connection';
import { eventNames } from './contract';
import type { Handlers } from './dispatch';
import { dispatch } from './dispatch';
import type { EventBus } from './events';
import type { CallFrame, ServerFrame } from './ws-protocol';
import { TOKEN_PARAM, WS_PATH } from './ws-protocol';
import { CONTENT_SECURITY_POLICY } from './security';

export interface WebServerOptions {
  handlers: Handlers;
  events: EventBus;
  /** The built renderer (index.html and assets). */
  staticDir: string;
  port?: number;
  /** Fixed token for tests; a fresh random one otherwise. */
  token?: string;
  /** Where what the server did not expect is told (never with the token). Default: stderr. */
  log?: (line: string) => void;
}

export interface WebServer {
  origin: string;
  token: string;
  /** The address to open: origin with the token in the query. */
  url: string;
  close(): Promise<void>;
}

/** The largest frame a client may send, bytes; a larger one closes its connection (1009). */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** Calls of one connection being answered at once; more are refused (`busy`) until one ends. */
export const MAX_CALLS_IN_FLIGHT = 64;
/** WebSocket connections at once; more are refused with 503. */
export const MAX_CONNECTIONS = 32;
/**
 * Bytes waiting to be sent to one client that does not read; past this it is disconnected
 * (a terminal's output waits for the client before this: see terminal/sessions.ts).
 */
export const MAX_CLIENT_BACKLOG_BYTES = 32 * 1024 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

export function tokensMatch(expected: string, given: string | null): boolean {
  if (given === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `text` with the token, wherever it appears, replaced by "<token>": safe to log. */
export function redact(text: string, token: string): string {
  return token ? text.split(token).join('<token>').split(encodeURIComponent(token)).join('<token>') : text;
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const staticRoot = path.resolve(options.staticDir);
  const log = (line: string) =>
    (options.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(redact(line, token));
  let origin = '';
  let port = 0;

  /**
   * Who the request names as the server: 'ours' (127.0.0.1:PORT), 'localhost' (the same
   * machine by name: the page is sent to the printed address) or 'foreign' (another name,
   * as a page rebound to 127.0.0.1 sends it, or none).
   */
  const hostOf = (req: IncomingMessage): 'ours' | 'localhost' | 'foreign' => {
    const host = (req.headers.host ?? '').toLowerCase();
    if (host === `127.0.0.1:${port}`) return 'ours';
    if (host === `localhost:${port}`) return 'localhost';
    return 'foreign';
  };
  const elsewhere = () =>
    `MicroLab answers only at ${origin}/ : open the address \`microlab web\` printed (it carries the token).\n`;

  const server = createServer((req, res) => {
    res.on('error', () => undefined);
    try {
      const host = hostOf(req);
      if (host === 'localhost' && (req.method === 'GET' || req.method === 'HEAD')) {
        // The same page at the address served (the token, in the query, goes along).
        // (Re-serialized: percent-encoded, nothing a header may not carry.)
        const asked = parseTarget(req.url);
        const target = `${origin}${asked ? `${asked.pathname}${asked.search}` : '/'}`;
        res.writeHead(307, { Location: target, 'Content-Type': 'text/plain; charset=utf-8' });
        return void res.end(elsewhere());
      }
      if (host !== 'ours') {
        res.writeHead(421, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
        return void res.end(elsewhere());
      }
      serveStatic(staticRoot, req, res).catch((err: unknown) => {
        log(`web: serving ${req.method} ${req.url} failed: ${describe(err)}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    } catch (err) {
      log(`web: a request failed: ${describe(err)}`);
      res.destroy();
    }
  });
  // A request Node cannot parse (bad method, header or encoding): 400, and the socket goes.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code !== 'ECONNRESET' && socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    socket.destroy();
  });
  server.on('error', (err) => log(`web: the server: ${describe(err)}`));
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  wss.on('error', (err) => log(`web: the WebSocket server: ${describe(err)}`));

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const refuse = (status: string) => {
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    try {
      if (hostOf(req) !== 'ours') return refuse('421 Misdirected Request');
      const url = parseTarget(req.url);
      const browserOrigin = req.headers.origin;
      if (!url || url.pathname !== WS_PATH) return refuse('404 Not Found');
      if (!tokensMatch(token, url.searchParams.get(TOKEN_PARAM))) return refuse('401 Unauthorized');
      if (browserOrigin !== undefined && browserOrigin !== origin) return refuse('403 Forbidden');
      if (wss.clients.size >= MAX_CONNECTIONS) return refuse('503 Service Unavailable');
      wss.handleUpgrade(req, socket, head, (ws) => {
        try {
          serveClient(ws, options, log);
        } catch (err) {
          log(`web: a connection failed: ${describe(err)}`);
          ws.terminate();
        }
      });
    } catch (err) {
      log(`web: an upgrade failed: ${describe(err)}`);
      refuse('400 Bad Request');
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;

  return {
    origin,
    token,
    url: `${origin}/?${TOKEN_PARAM}=${token}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A request target as a URL (path and query), or undefined when it is not one. */
function parseTarget(target: string | undefined): URL | undefined {
  if (!target?.startsWith('/')) return undefined;
  try {
    return new URL(target, 'http://127.0.0.1');
  } catch {
    return undefined;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function serveClient(
  ws: WebSocket,
  { handlers, events }: WebServerOptions,
  log: (line: string) => void,
): void {
  // What this client has not taken yet: the frames ws still holds and the socket's buffer.
  const shrunk = new Set<() => void>();
  const flow = {
    backlog: () => ws.bufferedAmount,
    onShrink: (check: () => void) => {
      shrunk.add(check);
      return () => void shrunk.delete(check);
    },
  };
  const send = (frame: ServerFrame) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_CLIENT_BACKLOG_BYTES) {
      log(`web: a client read nothing of the last ${ws.bufferedAmount} bytes: disconnected`);
      return void ws.terminate();
    }
    let text: string;
    try {
      text = JSON.stringify(frame);
    } catch (err) {
      log(`web: a frame could not be written: ${describe(err)}`);
      if (!('id' in frame)) return;
      text = JSON.stringify({
        id: frame.id,
        reply: { ok: false, error: { code: 'internal', message: 'the answer could not be sent' } },
      } satisfies ServerFrame);
    }
    ws.send(text, (err) => {
      if (err) return void ws.terminate();
      for (const check of shrunk) check();
    });
  };

  const disposers = eventNames.map((event) =>
    events.on(event, (payload) => send({ event, payload } as ServerFrame)),
  );
  // Events for this client only (a terminal's output), and what it holds, closed when it goes.
  const { connection, close } = createConnection(
    (event, payload) => send({ event, payload } as ServerFrame),
    'ws',
    flow,
  );
  let inFlight = 0;
  ws.on('close', () => {
    disposers.forEach((dispose) => dispose());
    close();
  });
  ws.on('error', () => ws.terminate());
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const frame = parseFrame(data, isBinary);
    if (!frame) return void ws.close(1003, 'malformed frame');
    if (inFlight >= MAX_CALLS_IN_FLIGHT) {
      return send({
        id: frame.id,
        reply: {
          ok: false,
          error: {
            code: 'busy',
            message: `${MAX_CALLS_IN_FLIGHT} calls of this connection are being answered; wait for one`,
          },
        },
      });
    }
    inFlight++;
    dispatch(handlers, frame.method, frame.input, connection)
      .then(
        (reply) => send({ id: frame.id, reply }),
        (err: unknown) => log(`web: ${String(frame.method).slice(0, 64)} failed: ${describe(err)}`),
      )
      .finally(() => inFlight--)
      .catch(() => undefined);
  });
}

/** A call frame, or undefined when `data` is not one: JSON text with a whole-number id. */
export function parseFrame(data: RawData, isBinary = false): CallFrame | undefined {
  if (isBinary) return undefined;
  try {
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data as Buffer).toString('utf8');
    const frame = JSON.parse(text) as unknown;
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return undefined;
    const { id, method, input } = frame as Record<string, unknown>;
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) return undefined;
    return { id, method: method as string, input };
  } catch {
    return undefined;
  }
}

async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // While the file is looked up, the client can break its request (a body Node cannot parse is
  // answered 400 on the spot) or go: then the response is no longer ours to write.
  const answered = () => res.headersSent || res.writableEnded || res.destroyed;
  const send = (status: number, body: string) => {
    if (answered()) return;
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
  const url = parseTarget(req.url);
  if (!url) return send(400, 'bad request');
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return send(400, 'bad request: the path is not percent-encoded UTF-8');
  }
  if (pathname.includes('\0')) return send(404, 'not found');
  const file = path.resolve(root, '.' + (pathname === '/' ? '/index.html' : pathname));
  if (file !== root && !file.startsWith(root + path.sep)) return send(404, 'not found');
  try {
    const info = await stat(file);
    if (!info.isFile()) return send(404, 'not found');
    if (answered()) return;
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
      'Content-Length': info.size,
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    });
    if (req.method === 'HEAD') return void res.end();
    // A file that goes between stat and read, or a client that goes: the response just ends.
    pipeline(createReadStream(file), res, () => undefined);
  } catch {
    send(404, file.endsWith('index.html') ? 'the UI is not built: run `npm run build`' : 'not found');
  }
}
