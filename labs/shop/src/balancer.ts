/**
 * The monolith's load balancer (SHOP_ROLE=balancer): when the monolith runs several
 * replicas, this small HTTP proxy takes the storefront's place (its published port and its
 * name on the edge network) and hands each request to the next replica in turn.
 *
 * The replicas share one DNS name (BALANCER_TARGET, e.g. http://shop:8080), as the
 * microservices' replicas do: the proxy resolves it again every second, so replicas that
 * start or go are followed without a restart. A replica that refuses or resets a connection
 * before answering (starting, or draining on SIGTERM) is left aside for a few seconds and
 * the request goes to the next one; its body is kept until then (bodies are small JSON).
 *
 * It answers nothing itself except `/balancer/healthz` (200 with the replicas it knows, 503
 * while it knows none)
 * and stops like every shop process on SIGTERM (stop accepting, finish what is in flight).
 */
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import { env } from './lib/config';
import { log } from './lib/log';

const RESOLVE_EVERY_MS = 1000;
const EJECT_MS = 5000;
const ATTEMPTS = 4;
const REQUEST_TIMEOUT_MS = 15_000;
const MAX_BODY_BYTES = 1024 * 1024;
const DRAIN_MS = 10_000;
export const BALANCER_HEALTH_PATH = '/balancer/healthz';

/** Errors after which the request never reached a replica's handler, so another may take it. */
const RETRYABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);

/** The hop-by-hop headers a proxy does not pass on (RFC 9110, 7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

function endToEnd(headers: http.IncomingHttpHeaders | http.OutgoingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [key, value] of Object.entries(headers))
    if (value !== undefined && !HOP_BY_HOP.has(key.toLowerCase())) out[key] = value;
  return out;
}

/** The replicas behind one DNS name, in turn, minus those left aside. */
export class Replicas {
  private addresses: string[] = [];
  private resolvedAt = 0;
  private next = 0;
  private readonly ejected = new Map<string, number>();

  constructor(
    readonly host: string,
    private readonly resolveName: (host: string) => Promise<string[]> = async (h) =>
      (await lookup(h, { all: true, family: 4 })).map((a) => a.address).sort(),
  ) {}

  async pick(force = false): Promise<string | undefined> {
    if (force || this.addresses.length === 0 || Date.now() - this.resolvedAt > RESOLVE_EVERY_MS) {
      try {
        this.addresses = await this.resolveName(this.host);
        this.resolvedAt = Date.now();
      } catch {
        /* keep what was known; none known: undefined below */
      }
    }
    const now = Date.now();
    const healthy = this.addresses.filter((a) => (this.ejected.get(a) ?? 0) < now);
    const from = healthy.length ? healthy : this.addresses;
    return from.length ? from[this.next++ % from.length] : undefined;
  }

  eject(address: string): void {
    this.ejected.set(address, Date.now() + EJECT_MS);
  }

  known(): string[] {
    return [...this.addresses];
  }
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function forward(
  address: string,
  port: number,
  req: http.IncomingMessage,
  body: Buffer,
  agent: http.Agent,
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const upstream = http.request(
      {
        host: address,
        port,
        method: req.method,
        path: req.url,
        agent,
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          ...endToEnd(req.headers),
          'content-length': String(body.length),
          'x-forwarded-for': req.socket.remoteAddress ?? '',
        },
      },
      resolve,
    );
    upstream.on('timeout', () =>
      upstream.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function startBalancer(): void {
  const target = new URL(env('BALANCER_TARGET'));
  const port = Number(target.port || 80);
  const replicas = new Replicas(target.hostname);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: 4000 });
  let served = 0;

  const server = http.createServer((req, res) => {
    if (req.url === BALANCER_HEALTH_PATH) {
      // Healthy while it knows a replica to send requests to.
      void replicas.pick().then(() => {
        const known = replicas.known();
        sendJson(res, known.length ? 200 : 503, {
          status: known.length ? 'ok' : 'no-replica',
          role: 'balancer',
          target: target.host,
          replicas: known,
          served,
        });
      });
      return;
    }
    void (async () => {
      let body: Buffer;
      try {
        body = await readBody(req);
      } catch (err) {
        sendJson(res, (err as { status?: number }).status ?? 400, {
          error: 'bad-request',
          message: (err as Error).message,
        });
        return;
      }
      let lastError = 'no replica is known';
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const address = await replicas.pick(attempt > 0);
        if (!address) break;
        let reply: http.IncomingMessage;
        try {
          reply = await forward(address, port, req, body, agent);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? '';
          lastError = `${address}: ${code || (err as Error).message}`;
          if (!RETRYABLE.has(code)) break;
          replicas.eject(address);
          continue;
        }
        served++;
        res.writeHead(reply.statusCode ?? 502, endToEnd(reply.headers));
        reply.pipe(res);
        reply.on('error', () => res.destroy());
        return;
      }
      log('warn', 'no replica answered', { path: req.url, error: lastError });
      if (!res.headersSent)
        sendJson(res, 502, {
          error: 'upstream-unavailable',
          message: `no ${target.hostname} replica answered (${lastError})`,
        });
    })();
  });
  server.keepAliveTimeout = 5000;
  server.listen(Number(env('PORT', '8080')), () =>
    log('info', 'ready', { target: target.host, role: 'balancer' }),
  );
  process.once('SIGTERM', () => {
    log('info', 'draining');
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), DRAIN_MS).unref();
  });
}
