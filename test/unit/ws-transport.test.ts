import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Handlers } from '../../electron/api/dispatch';
import { EventBus } from '../../electron/api/events';
import { connectWsApi } from '../../electron/api/ws-client';
import type { SocketConstructor } from '../../electron/api/ws-client';
import type { WebServer } from '../../electron/api/ws-server';
import { startWebServer, tokensMatch } from '../../electron/api/ws-server';
import { ApiError } from '../../electron/errors';

const Socket = WebSocket as unknown as SocketConstructor;

/** The transport is under test here, not the services: these handlers answer from memory. */
const handlers = {
  'images:list': async () => [{ name: 'microlab/base:test', role: 'base', present: true, required: true }],
  'tasks:cancel': async ({ id }: { id: string }) => {
    throw new ApiError('unknown-task', `no task with id ${id}`, 'List tasks first.');
  },
} as unknown as Handlers;

describe('browser transport', () => {
  let server: WebServer;
  const events = new EventBus();

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-ui-'));
    await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>MicroLab</title>');
    server = await startWebServer({ handlers, events, staticDir: dir });
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
});
