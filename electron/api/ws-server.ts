/**
 * The browser transport: an HTTP server on 127.0.0.1 that serves the built UI and, on
 * /api, a WebSocket carrying the same API as Electron's IPC. A per-run token, checked in
 * constant time during the handshake, keeps other local users and web pages out; the Origin
 * header, when a browser sends one, must be our own.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
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
}

export interface WebServer {
  origin: string;
  token: string;
  /** The address to open: origin with the token in the query. */
  url: string;
  close(): Promise<void>;
}

const MAX_FRAME_BYTES = 1024 * 1024;

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

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const staticRoot = path.resolve(options.staticDir);
  let origin = '';

  const server = createServer((req, res) => {
    void serveStatic(staticRoot, req, res);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', origin);
    const browserOrigin = req.headers.origin;
    const refuse = (status: string) => {
      socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    if (url.pathname !== WS_PATH) return refuse('404 Not Found');
    if (!tokensMatch(token, url.searchParams.get(TOKEN_PARAM))) return refuse('401 Unauthorized');
    if (browserOrigin !== undefined && browserOrigin !== origin) return refuse('403 Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => serveClient(ws, options));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
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

function serveClient(ws: WebSocket, { handlers, events }: WebServerOptions): void {
  const send = (frame: ServerFrame) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
  };
  const disposers = eventNames.map((event) =>
    events.on(event, (payload) => send({ event, payload } as ServerFrame)),
  );
  // Events for this client only (a terminal's output), and what it holds, closed when it goes.
  const { connection, close } = createConnection(
    (event, payload) => send({ event, payload } as ServerFrame),
    'ws',
  );
  ws.on('close', () => {
    disposers.forEach((dispose) => dispose());
    close();
  });
  ws.on('error', () => ws.terminate());
  ws.on('message', (data) => {
    let frame: CallFrame;
    try {
      frame = JSON.parse(String(data)) as CallFrame;
      if (typeof frame !== 'object' || frame === null || typeof frame.id !== 'number')
        throw new Error('no id');
    } catch {
      ws.close(1003, 'malformed frame');
      return;
    }
    void dispatch(handlers, frame.method, frame.input, connection).then((reply) =>
      send({ id: frame.id, reply }),
    );
  });
}

async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const send = (status: number, body: string) => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
  const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  const file = path.resolve(root, '.' + (pathname === '/' ? '/index.html' : pathname));
  if (file !== root && !file.startsWith(root + path.sep)) return send(404, 'not found');
  try {
    const info = await stat(file);
    if (!info.isFile()) return send(404, 'not found');
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
      'Content-Length': info.size,
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  } catch {
    send(404, file.endsWith('index.html') ? 'the UI is not built: run `npm run build`' : 'not found');
  }
}
