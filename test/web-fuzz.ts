/**
 * Hostile clients of the browser transport (issue 15), as fast-check arbitraries and a runner:
 * what any web page, or any local process without the token, can send to `microlab web`.
 * Raw HTTP requests (methods, targets, encodings, headers, Host and Origin, upgrade requests,
 * bodies huge, truncated or chunked wrongly, written slowly or cut off), raw bytes after a
 * WebSocket handshake, and frames of a client that has the token (malformed JSON, binary,
 * oversized, unknown methods, hostile inputs, floods of calls). Used by the integration test
 * (a fixed seed, a bounded number of cases) and `npm run bench -- web-fuzz` (a longer run).
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import fc from 'fast-check';
import WebSocket from 'ws';

export interface Server {
  port: number;
  token: string;
}

export type HostileCase =
  | {
      kind: 'http';
      method: string;
      target: string;
      /** The Host header (none when undefined). */
      host: string | undefined;
      headers: [string, string][];
      body: Uint8Array;
      /** How the body is framed: Content-Length true, larger than sent, chunked garbage, none. */
      framing: 'exact' | 'truncated' | 'chunked-garbage' | 'none';
      /** Write the request in pieces this many bytes long, a few ms apart (a slow client). */
      piece: number;
      /** Hang up right after writing, without reading the answer. */
      hangUp: boolean;
    }
  | { kind: 'ws-raw'; bytes: Uint8Array }
  | { kind: 'ws-frames'; frames: (string | Uint8Array)[]; flood: number; hangUp: boolean };

const methods = fc.oneof(
  { weight: 6, arbitrary: fc.constant('GET') },
  { weight: 1, arbitrary: fc.constant('HEAD') },
  {
    weight: 2,
    arbitrary: fc.constantFrom('POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'BREW'),
  },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
);

const targets = (token: string) =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        '/',
        '/index.html',
        '/api',
        `/api?token=${token}`,
        `/?token=${token}`,
        '/%E0',
        '/%',
        '/%00',
        '/%2e%2e/%2e%2e/etc/passwd',
        '/..\\..\\etc\\passwd',
        '//[',
        '//evil.example/',
        'http://evil.example/',
        '*',
        '/api?token=',
        `/api?token=${token}&token=x`,
        '/assets/../../package.json',
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }).map((s) => `/${s}`) },
    { weight: 2, arbitrary: fc.stringMatching(/^\/(%[0-9A-Fa-f]{0,2}|[a-z./?=&[\]])*$/) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 80_000 }).map((n) => `/${'a'.repeat(n)}`) },
  );

/** The Host header: ours most often (else the request stops there), others and none too. */
const hosts = (port: number) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(`127.0.0.1:${port}`) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        `localhost:${port}`,
        `evil.example:${port}`,
        '',
        '127.0.0.1',
        `[::1]:${port}`,
      ),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );

const headers = (port: number) =>
  fc.array(
    fc.oneof(
      {
        weight: 6,
        arbitrary: fc.constantFrom<[string, string]>(
          ['Origin', `http://127.0.0.1:${port}`],
          ['Origin', 'http://evil.example'],
          ['Origin', 'null'],
          ['Upgrade', 'websocket'],
          ['Connection', 'Upgrade'],
          ['Connection', 'keep-alive'],
          ['Sec-WebSocket-Version', '13'],
          ['Sec-WebSocket-Version', '8'],
          ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
          ['Sec-WebSocket-Key', 'x'],
          ['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits'],
          ['Transfer-Encoding', 'chunked'],
          ['Content-Length', '-1'],
          ['Content-Length', '99999999999999999999'],
          ['Expect', '100-continue'],
          ['Accept-Encoding', 'gzip'],
          ['Host', 'second.example'],
        ),
      },
      {
        weight: 1,
        arbitrary: fc.tuple(
          fc.string({ unit: 'binary', maxLength: 20 }),
          fc.string({ unit: 'binary', maxLength: 200 }),
        ),
      },
      {
        weight: 1,
        arbitrary: fc.integer({ min: 1, max: 70_000 }).map((n): [string, string] => ['X-Big', 'b'.repeat(n)]),
      },
    ),
    { maxLength: 6 },
  );

const callFrames = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record({
      id: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)),
      method: fc.oneof(
        fc.constantFrom(
          'terminal:list',
          'terminal:input',
          'terminal:resize',
          'terminal:close',
          'nope',
          '__proto__',
          'constructor',
          'toString',
          'hasOwnProperty',
          '',
        ),
        fc.string({ maxLength: 30 }),
      ),
      input: fc.oneof(
        fc.jsonValue(),
        fc.record({ id: fc.stringMatching(/^t[0-9a-f]{16}$/), data: fc.string({ maxLength: 100 }) }),
      ),
    })
    .map((frame) => JSON.stringify(frame)),
  fc.uint8Array({ maxLength: 200 }),
  fc.constant('x'.repeat(1024 * 1024 + 1)),
  fc.constant('{"id":1,"method":"terminal:list","input":'.padEnd(5000, '[')),
);

/** Every kind of hostile client, for the server at `port` whose token is `token`. */
export function hostileCases({ port, token }: Server): fc.Arbitrary<HostileCase> {
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('http' as const),
        method: methods,
        target: targets(token),
        host: hosts(port),
        headers: headers(port),
        body: fc.oneof(
          fc.uint8Array({ maxLength: 2000 }),
          fc.integer({ min: 1, max: 2 * 1024 * 1024 }).map((n) => new Uint8Array(n)),
        ),
        framing: fc.constantFrom(
          'exact' as const,
          'truncated' as const,
          'chunked-garbage' as const,
          'none' as const,
        ),
        piece: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 64 })),
        hangUp: fc.boolean(),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('ws-raw' as const),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 4000 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('ws-frames' as const),
        frames: fc.array(callFrames, { minLength: 1, maxLength: 8 }),
        flood: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 400 })),
        hangUp: fc.boolean(),
      }),
    },
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes `bytes` to a fresh connection (in pieces when asked), reads the answer for a while, hangs up. */
async function raw(
  port: number,
  bytes: Buffer,
  piece: number,
  hangUp: boolean,
  then?: Buffer,
): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let answer = '';
  socket.on('data', (d: Buffer) => {
    answer += d.toString('latin1');
    if (then && answer.includes('\r\n\r\n')) {
      socket.write(then);
      then = undefined;
    }
  });
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve);
    socket.once('error', () => resolve());
  });
  if (piece) {
    for (let i = 0; i < bytes.length && i < 4096 && !socket.destroyed; i += piece) {
      socket.write(bytes.subarray(i, i + piece));
      await sleep(2);
    }
    if (bytes.length > 4096 && !socket.destroyed) socket.write(bytes.subarray(4096));
  } else socket.write(bytes);
  if (!hangUp) {
    await Promise.race([new Promise((resolve) => socket.once('close', resolve)), sleep(300)]);
  }
  socket.destroy();
}

function request(c: Extract<HostileCase, { kind: 'http' }>): Buffer {
  const body = Buffer.from(c.body);
  const lines = [
    `${c.method} ${c.target} HTTP/1.1`,
    ...(c.host !== undefined ? [`Host: ${c.host}`] : []),
    ...c.headers.map(([k, v]) => `${k}: ${v}`),
  ];
  if (c.framing === 'exact') lines.push(`Content-Length: ${body.length}`);
  if (c.framing === 'truncated') lines.push(`Content-Length: ${body.length + 1000}`);
  if (c.framing === 'chunked-garbage') lines.push('Transfer-Encoding: chunked');
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const framed = c.framing === 'chunked-garbage' ? Buffer.concat([Buffer.from('zz\r\n'), body]) : body;
  return Buffer.concat([head, c.framing === 'none' ? Buffer.alloc(0) : framed]);
}

/** Plays one hostile client against the server; resolves when it has hung up. */
export async function play(server: Server, c: HostileCase): Promise<void> {
  const { port, token } = server;
  if (c.kind === 'http') return raw(port, request(c), c.piece, c.hangUp);
  if (c.kind === 'ws-raw') {
    const handshake = Buffer.from(
      `GET /api?token=${token} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
    );
    return raw(port, handshake, 0, false, Buffer.from(c.bytes));
  }
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api?token=${token}`, { maxPayload: 64 * 1024 * 1024 });
  ws.on('error', () => undefined);
  const opened = await new Promise<boolean>((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('close', () => resolve(false));
  });
  if (opened) {
    for (const frame of c.frames) ws.send(frame);
    for (let i = 0; i < c.flood; i++)
      ws.send(JSON.stringify({ id: i + 1, method: 'terminal:list', input: {} }));
    if (!c.hangUp) await Promise.race([new Promise((resolve) => ws.once('close', resolve)), sleep(200)]);
  }
  ws.terminate();
}

/** One line that says what a case sent (for a failure's report), without its bulk. */
export function describeCase(c: HostileCase): string {
  if (c.kind === 'http')
    return `${c.method} ${c.target.slice(0, 80)} host=${c.host} headers=${JSON.stringify(c.headers.map(([k, v]) => [k.slice(0, 20), v.slice(0, 40)]))} body=${c.body.length} ${c.framing} piece=${c.piece}${c.hangUp ? ' hang-up' : ''}`;
  if (c.kind === 'ws-raw') return `raw bytes after a handshake: ${c.bytes.length}`;
  return `frames: ${c.frames.map((f) => (typeof f === 'string' ? f.slice(0, 60) : `<${f.length} bytes>`)).join(' | ')} flood=${c.flood}`;
}
