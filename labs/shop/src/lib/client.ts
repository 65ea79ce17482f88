/**
 * How one service calls another over HTTP. A service name (catalog) may stand for several
 * replicas: the client resolves the name again every second, takes the addresses in turn,
 * and when a replica refuses or resets a reused connection (it is starting or draining), it
 * tries the next one and leaves that address aside for a few seconds (a draining replica
 * refuses before it goes, so callers stop choosing it before its address disappears). Error replies come back as the same HttpError the module threw.
 */
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import { HttpError } from './errors';

const RESOLVE_EVERY_MS = 1000;
const REQUEST_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 1000;
/** How long an address that refused is left aside. */
const EJECT_MS = 5000;
const ATTEMPTS = 4;

/** Errors after which the request never reached a handler, so another replica may take it. */
const RETRYABLE = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
]);

const agent = new http.Agent({ keepAlive: true, maxSockets: 64, timeout: 4000 });

export class ServiceClient {
  private addresses: string[] = [];
  private resolvedAt = 0;
  private next = 0;
  private readonly ejected = new Map<string, number>();
  private readonly host: string;
  private readonly port: number;

  constructor(
    readonly service: string,
    baseUrl: string,
  ) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
  }

  private async resolve(force = false): Promise<string[]> {
    if (force || Date.now() - this.resolvedAt > RESOLVE_EVERY_MS || this.addresses.length === 0) {
      try {
        const found = await lookup(this.host, { all: true, family: 4 });
        this.addresses = found.map((a) => a.address).sort();
        this.resolvedAt = Date.now();
      } catch (err) {
        if (this.addresses.length === 0)
          throw new HttpError(
            503,
            'upstream-unavailable',
            `${this.service} cannot be resolved: ${(err as Error).message}`,
          );
      }
    }
    return this.addresses;
  }

  /** Calls `method path` with an optional JSON body; resolves with the parsed JSON reply. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let lastError = '';
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const resolved = await this.resolve(attempt > 0);
      const now = Date.now();
      const healthy = resolved.filter((a) => (this.ejected.get(a) ?? 0) < now);
      const addresses = healthy.length ? healthy : resolved;
      const address = addresses[this.next++ % addresses.length]!;
      try {
        return (await this.send(address, method, path, body)) as T;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (err instanceof HttpError || !code || !RETRYABLE.has(code)) throw err;
        lastError = `${address}: ${code}`;
        this.ejected.set(address, Date.now() + EJECT_MS);
      }
    }
    throw new HttpError(503, 'upstream-unavailable', `${this.service} is not answering (${lastError})`);
  }

  private send(address: string, method: string, path: string, body?: unknown): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: address,
          port: this.port,
          method,
          path,
          agent,
          timeout: REQUEST_TIMEOUT_MS,
          headers: {
            host: this.host,
            ...(payload
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              return reject(
                new HttpError(502, 'bad-upstream-reply', `${this.service} sent a reply that is not JSON`),
              );
            }
            const status = res.statusCode ?? 500;
            if (status < 400) return resolve(parsed);
            const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
            reject(
              new HttpError(
                status,
                error?.code ?? 'upstream-error',
                error?.message ?? `${this.service} answered ${status}`,
              ),
            );
          });
        },
      );
      // A connection that does not open in time goes to an address that is gone. The clock
      // starts when the connection does, not while the request waits for a pooled socket.
      let connectTimer: NodeJS.Timeout | undefined;
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        connectTimer = setTimeout(() => {
          const err = new Error(`connect to ${address} timed out`) as NodeJS.ErrnoException;
          err.code = 'ETIMEDOUT';
          req.destroy(err);
        }, CONNECT_TIMEOUT_MS);
        socket.once('connect', () => clearTimeout(connectTimer));
      });
      req.on('timeout', () =>
        req.destroy(new HttpError(504, 'upstream-timeout', `${this.service} did not answer in time`)),
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        // A reset on a fresh connection may have reached the handler: only a reused one is retried.
        if (err.code === 'ECONNRESET' && !req.reusedSocket) {
          reject(new HttpError(502, 'upstream-reset', `${this.service} closed the connection`));
        } else reject(err);
      });
      req.end(payload);
    });
  }
}
