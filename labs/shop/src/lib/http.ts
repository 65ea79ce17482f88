/**
 * A tiny HTTP layer on Node's http module: a router with `:params`, JSON bodies with a size
 * limit, JSON errors, one log line per request, and a graceful stop on SIGTERM (stop
 * accepting, finish what is in flight, then exit).
 */
import http from 'node:http';
import { HttpError } from './errors';
import { log } from './log';

/** Bodies larger than this are refused with 413 before they are read. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface Request {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body; `{}` when there is none. Throws 400 / 413 / 415. */
  json(): Promise<unknown>;
}

/** What a handler returns: a body (sent as 200) or a status with a body. */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly contentType = 'application/json',
  ) {}
}

export type Handler = (req: Request) => Promise<unknown>;

interface Route {
  method: string;
  parts: string[];
  handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  on(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  /** Every route, as [method, pattern]. */
  list(): [string, string][] {
    return this.routes.map((r) => [r.method, `/${r.parts.join('/')}`]);
  }

  /** The handler for a request, its path parameters, or why there is none (404 / 405). */
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } {
    const parts = path.split('/').filter(Boolean);
    let pathMatched = false;
    for (const route of this.routes) {
      if (route.parts.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const ok = route.parts.every((p, i) => {
        if (p.startsWith(':')) {
          params[p.slice(1)] = decodeURIComponent(parts[i]!);
          return true;
        }
        return p === parts[i];
      });
      if (!ok) continue;
      pathMatched = true;
      if (route.method === method) return { handler: route.handler, params };
    }
    if (pathMatched) throw new HttpError(405, 'method-not-allowed', `${method} is not allowed on ${path}`);
    throw new HttpError(404, 'not-found', `no such endpoint: ${method} ${path}`);
  }
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    return Promise.reject(
      new HttpError(413, 'body-too-large', `request body is larger than ${MAX_BODY_BYTES} bytes`),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'body-too-large', `request body is larger than ${MAX_BODY_BYTES} bytes`));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text.trim()) return resolve({});
      const type = String(req.headers['content-type'] ?? 'application/json');
      if (!type.startsWith('application/json')) {
        return reject(
          new HttpError(415, 'unsupported-media-type', 'send JSON (Content-Type: application/json)'),
        );
      }
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new HttpError(400, 'invalid-json', 'the request body is not valid JSON'));
      }
    });
  });
}

export interface ServerOptions {
  port: number;
  router: Router;
  /** Paths not logged per request (health checks). */
  quiet?: string[];
  /** Turns an error that is not an HttpError into one, when it knows what it means. */
  mapError?: (err: unknown) => HttpError | undefined;
  /** Called once the server stopped, before the process exits. */
  onStop?: () => Promise<void>;
}

/** After SIGTERM, how long to keep refusing connections before exiting (callers re-resolve meanwhile). */
const LINGER_MS = 1500;
const DRAIN_TIMEOUT_MS = 10_000;

export function serve({ port, router, quiet = [], mapError, onStop }: ServerOptions): http.Server {
  let draining = false;
  const server = http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://shop');
    const send = (status: number, body: unknown, contentType = 'application/json') => {
      const payload =
        contentType === 'application/json' ? JSON.stringify(body) : String(body as string | number);
      res.statusCode = status;
      res.setHeader('Content-Type', contentType === 'application/json' ? 'application/json' : contentType);
      if (draining) res.setHeader('Connection', 'close');
      res.end(payload);
      if (!quiet.includes(url.pathname)) {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        log(status >= 500 ? 'error' : 'info', 'request', {
          method: req.method,
          path: url.pathname,
          status,
          ms: Math.round(ms * 10) / 10,
        });
      }
    };
    const handle = async () => {
      const { handler, params } = router.match(req.method ?? 'GET', url.pathname);
      const result = await handler({
        method: req.method ?? 'GET',
        path: url.pathname,
        params,
        query: url.searchParams,
        headers: req.headers,
        json: () => readJson(req),
      });
      if (result instanceof Reply) send(result.status, result.body, result.contentType);
      else send(200, result);
    };
    handle().catch((caught: unknown) => {
      const err = caught instanceof HttpError ? caught : (mapError?.(caught) ?? caught);
      if (err instanceof HttpError) {
        send(err.status, { error: { code: err.code, message: err.message } });
        // A refused oversized body is not read: close rather than drain it.
        if (err.status === 413) res.once('finish', () => req.socket.destroy());
      } else {
        log('error', 'unhandled error', { error: (err as Error).message });
        send(500, { error: { code: 'internal', message: 'internal error' } });
      }
    });
  });
  server.keepAliveTimeout = 5000;
  server.listen(port, () => log('info', 'listening', { port }));

  const stop = () => {
    if (draining) return;
    draining = true;
    log('info', 'SIGTERM: draining');
    server.close(() => {
      setTimeout(() => {
        void (onStop?.() ?? Promise.resolve())
          .catch(() => undefined)
          .finally(() => {
            log('info', 'stopped');
            process.exit(0);
          });
      }, LINGER_MS);
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), DRAIN_TIMEOUT_MS).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return server;
}
