/**
 * A terminal whose client does not keep up (issue 15): `yes` in a shell over the browser
 * transport, and a client that stops reading. The session stops reading the process's output
 * (a bounded buffer: the process blocks on its terminal), Ctrl-C still reaches the process and
 * ends it, and once the client reads again the rest arrives and the shell's prompt comes back.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { localApi } from '../../electron/api/local';
import type { ServerFrame } from '../../electron/api/ws-protocol';
import type { WebServer } from '../../electron/api/ws-server';
import { startWebServer } from '../../electron/api/ws-server';
import { execIn } from '../../electron/engine/exec';
import { createServices } from '../../electron/services';
import type { Services } from '../../electron/services';
import { FLUSH_BYTES } from '../../electron/terminal/sessions';
import { docker, until } from './support';

const project = `term-flow-it-${process.pid}`;
let services: Services;
let server: WebServer;
let shop: string;

beforeAll(async () => {
  services = createServices({ project });
  const api = localApi(services);
  await api.run('images:prepare', {});
  await api.run('deploy:up', { deployment: 'monolith', port: 0 });
  shop = (await api.call('deploy:status', {})).workloads.find((w) => w.workload === 'shop')!.container;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-ui-'));
  await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>MicroLab</title>');
  server = await startWebServer({ handlers: services.handlers, events: services.events, staticDir: dir });
});

afterAll(async () => {
  await server?.close();
  await services?.terminal.closeAll();
  await localApi(services)
    .call('resources:down', {})
    .catch(() => undefined);
});

/** A browser-like client on the raw socket, so that the test can stop reading. */
async function rawClient() {
  const ws = new WebSocket(`${server.origin.replace('http', 'ws')}/api?token=${server.token}`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let nextId = 1;
  const replies = new Map<number, (frame: ServerFrame) => void>();
  let output = '';
  ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as ServerFrame;
    if ('id' in frame) replies.get(frame.id)?.(frame);
    else if (frame.event === 'terminal:output')
      output += Buffer.from(frame.payload.data, 'base64').toString();
  });
  const call = (method: string, input: unknown) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      replies.set(id, (frame) => {
        if (!('reply' in frame)) return;
        if (frame.reply.ok) resolve(frame.reply.result);
        else reject(new Error(frame.reply.error.message));
      });
      ws.send(JSON.stringify({ id, method, input }));
    });
  /** Sends a call without waiting for its answer (the client is not reading). */
  const post = (method: string, input: unknown) => ws.send(JSON.stringify({ id: nextId++, method, input }));
  return { ws, call, post, output: () => output };
}

const yesRunning = async () =>
  (
    await execIn(docker, shop, ['sh', '-c', 'pgrep -x yes >/dev/null && echo running || echo none'])
  ).output.trim();

describe('a terminal whose client stops reading', () => {
  it('holds its output back, takes Ctrl-C, and delivers the rest once the client reads again', async () => {
    const c = await rawClient();
    const { id } = (await c.call('terminal:open', { target: { workload: 'shop' } })) as { id: string };
    await c.call('terminal:input', { id, data: 'yes\r' });
    await until('yes running', yesRunning, (s) => s === 'running');
    c.ws.pause();

    // The session stops reading the process's output: what it holds stays bounded.
    await until(
      'the session holding its output back',
      async () => services.terminal.flow(id),
      (f) => f?.paused === true,
      120_000,
    );
    expect(services.terminal.flow(id)!.heldBytes).toBeLessThanOrEqual(FLUSH_BYTES);
    expect(await yesRunning()).toBe('running');

    // Ctrl-C while the client still reads nothing: the process ends.
    c.post('terminal:input', { id, data: '\x03' });
    await until('yes ended by Ctrl-C', yesRunning, (s) => s === 'none');

    // Reading again: the rest arrives, then the shell's prompt.
    c.ws.resume();
    await c.call('terminal:input', { id, data: 'echo FLOW-$((40 + 2))\r' });
    await until(
      'the prompt back',
      async () => c.output(),
      (out) => out.includes('FLOW-42'),
      120_000,
    );
    expect(services.terminal.flow(id)?.paused).toBe(false);
    c.ws.close();
  });
});
