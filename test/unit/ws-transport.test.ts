import { mkdtemp, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Handlers } from '../../electron/api/dispatch';
import { EventBus } from '../../electron/api/events';
import { connectWsApi } from '../../electron/api/ws-client';
import type { SocketConstructor } from '../../electron/api/ws-client';
import type { WebServer } from '../../electron/api/ws-server';
import { MAX_CALLS_IN_FLIGHT, redact, startWebServer, tokensMatch } from '../../electron/api/ws-server';
import { ApiError } from '../../electron/errors';

const Socket = WebSocket as unknown as SocketConstructor;

/** The transport is under test here, not the services: these handlers answer from memory. */
const handlers = {
  'images:list': async () => [{ name: 'microlab/base:test', role: 'base', present: true, required: true }],
  // A call that takes its time: a flood of them fills the connection's calls in flight.
  'terminal:list': () => new Promise((resolve) => setTimeout(() => resolve([]), 200)),
  'tasks:cancel': async ({ id }: { id: string }) => {
    throw new ApiError('unknown-task', `no task with id ${id}`, 'List tasks first.');
  },
} as unknown as Handlers;

/** Sends `request` as raw bytes and returns the status line and headers of the answer. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer.split('\r\n\r\n')[0] ?? ''));
    setTimeout(() => socket.end(), 300);
  });
}

describe('browser transport', () => {
  let server: WebServer;
  let port: number;
  const events = new EventBus();
  const logged: string[] = [];

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-ui-'));
    await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>MicroLab</title>');
    server = await startWebServer({ handlers, events, staticDir: dir, log: (line) => logged.push(line) });
    port = Number(new URL(server.origin).port);
  });
  afterAll(() => server.close());

  it('listens on 127.0.0.1 only, with a long random token in the URL', () => {
    expect(server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.token.length).toBeGreaterThanOrEqual(32);
    expect(server.url).toBe(`${server.origin}/?token=${server.token}`);
  });

  it('serves the UI with a strict Content Security Policy, and nothing outside its folder', async () => {
    const page = await fetch(server.origin + '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<title>MicroLab</title>');
    expect((await fetch(server.origin + '/%2e%2e/%2e%2e/etc/passwd')).status).toBe(404);
  });

  it('carries calls, errors with their hint, and events', async () => {
    const api = await connectWsApi(server.origin, server.token, Socket);
    try {
      await expect(api.call('images:list', {})).resolves.toEqual([
        { name: 'microlab/base:test', role: 'base', present: true, required: true },
      ]);
      await expect(api.call('tasks:cancel', { id: 'x' })).rejects.toMatchObject({
        code: 'unknown-task',
        message: 'no task with id x',
        hint: 'List tasks first.',
      });
      await expect(api.call('images:import', { file: '' } as never)).rejects.toMatchObject({
        code: 'invalid-input',
      });
      const received = new Promise((resolve) => api.on('tasks:update', resolve));
      const task = {
        id: 't1',
        kind: 'k',
        title: 'T',
        state: 'running',
        progress: { step: 1, steps: 2, message: 'm' },
        startedAt: '',
      } as const;
      events.emit('tasks:update', task);
      await expect(received).resolves.toEqual(task);
    } finally {
      api.close();
    }
  });

  it('refuses a wrong or missing token before any call', async () => {
    await expect(connectWsApi(server.origin, 'wrong', Socket)).rejects.toMatchObject({ code: 'refused' });
    await expect(connectWsApi(server.origin, '', Socket)).rejects.toMatchObject({ code: 'refused' });
  });

  it('refuses a page of another origin even with the token', async () => {
    const socket = new WebSocket(`${server.origin.replace('http', 'ws')}/api?token=${server.token}`, {
      headers: { Origin: 'http://evil.example' },
    });
    const status = await new Promise<number | undefined>((resolve) => {
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      socket.on('open', () => resolve(101));
    });
    expect(status).toBe(403);
  });

  it('compares tokens in constant time and only when lengths agree', () => {
    expect(tokensMatch('abc', 'abc')).toBe(true);
    expect(tokensMatch('abc', 'abd')).toBe(false);
    expect(tokensMatch('abc', 'ab')).toBe(false);
    expect(tokensMatch('abc', null)).toBe(false);
  });

  it('answers a path that is not percent-encoded UTF-8 with 400 and goes on (it ended the process)', async () => {
    for (const target of ['/%E0', '/%', '/%C3%28']) {
      const answer = await fetch(server.origin + target);
      expect(answer.status).toBe(400);
    }
    expect((await fetch(server.origin + '/')).status).toBe(200);
  });

  it('refuses a request target that is no path, in a request or an upgrade (one threw in the upgrade handler)', async () => {
    const host = `Host: 127.0.0.1:${port}`;
    expect(await rawRequest(port, `GET //[ HTTP/1.1\r\n${host}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400/);
    const upgrade = `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==`;
    expect(await rawRequest(port, `GET //[ HTTP/1.1\r\n${host}\r\n${upgrade}\r\n\r\n`)).toMatch(
      /^HTTP\/1\.1 404/,
    );
    expect((await fetch(server.origin + '/')).status).toBe(200);
  });

  it('answers only to its own address: a rebound name is refused, localhost is sent to the printed address', async () => {
    // A page of evil.example whose name now resolves to 127.0.0.1 (DNS rebinding) sends its own name.
    const rebound = await rawRequest(port, `GET / HTTP/1.1\r\nHost: evil.example:${port}\r\n\r\n`);
    expect(rebound).toMatch(/^HTTP\/1\.1 421/);
    const local = await rawRequest(
      port,
      `GET /?token=${server.token} HTTP/1.1\r\nHost: localhost:${port}\r\n\r\n`,
    );
    expect(local).toMatch(/^HTTP\/1\.1 307/);
    expect(local).toContain(`Location: ${server.origin}/?token=${server.token}`);
    // The WebSocket too: the token does not help a page under another name.
    const socket = new WebSocket(`ws://127.0.0.1:${port}/api?token=${server.token}`, {
      headers: { Host: `evil.example:${port}` },
    });
    const status = await new Promise<number | undefined>((resolve) => {
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      socket.on('open', () => resolve(101));
    });
    expect(status).toBe(421);
  });

  it('closes a connection that sends a malformed frame, and only that one', async () => {
    const api = await connectWsApi(server.origin, server.token, Socket);
    const bad = new WebSocket(`ws://127.0.0.1:${port}/api?token=${server.token}`);
    await new Promise((resolve) => bad.on('open', resolve));
    const closed = new Promise<number>((resolve) => bad.on('close', resolve));
    bad.send('{"id": "not a number"');
    expect(await closed).toBe(1003);
    await expect(api.call('images:list', {})).resolves.toHaveLength(1);
    api.close();
  });

  it(`refuses calls past ${MAX_CALLS_IN_FLIGHT} in flight on one connection, saying so`, async () => {
    const api = await connectWsApi(server.origin, server.token, Socket);
    const calls = Array.from({ length: MAX_CALLS_IN_FLIGHT + 5 }, () =>
      api.call('terminal:list', {}).then(
        () => 'answered',
        (err: { code: string }) => err.code,
      ),
    );
    const outcomes = await Promise.all(calls);
    expect(outcomes.filter((o) => o === 'answered')).toHaveLength(MAX_CALLS_IN_FLIGHT);
    expect(outcomes.filter((o) => o === 'busy')).toHaveLength(5);
    await expect(api.call('terminal:list', {})).resolves.toEqual([]);
    api.close();
  });

  it('never writes the token to its log', () => {
    expect(redact(`GET /api?token=${server.token}`, server.token)).toBe('GET /api?token=<token>');
    expect(logged.join('\n')).not.toContain(server.token);
  });
});
