/**
 * The browser transport under what any web page can send (issue 15): a fuzz test with a fixed
 * seed and a bounded number of cases (MICROLAB_FUZZ_SEED and MICROLAB_FUZZ_RUNS change them;
 * `npm run bench -- web-fuzz` runs longer). After each hostile client the server must still
 * serve the page and answer calls, a terminal opened before the first case must still echo,
 * and nothing may have reached the log of the unexpected or been left unhandled.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { localApi } from '../../electron/api/local';
import { connectWsApi } from '../../electron/api/ws-client';
import type { SocketConstructor, WsApi } from '../../electron/api/ws-client';
import type { WebServer } from '../../electron/api/ws-server';
import { startWebServer } from '../../electron/api/ws-server';
import { createServices } from '../../electron/services';
import type { Services } from '../../electron/services';
import { describeCase, hostileCases, play } from '../web-fuzz';

const project = `web-fuzz-it-${process.pid}`;
const seed = Number(process.env.MICROLAB_FUZZ_SEED ?? 15);
const numRuns = Number(process.env.MICROLAB_FUZZ_RUNS ?? 120);

let services: Services;
let server: WebServer;
let api: WsApi;
let session: string;
const logged: string[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
let output = '';
let wake: (() => void) | undefined;

beforeAll(async () => {
  services = createServices({ project });
  const local = localApi(services);
  await local.run('images:prepare', {});
  await local.run('deploy:up', { deployment: 'monolith', port: 0 });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-ui-'));
  await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>MicroLab</title>');
  server = await startWebServer({
    handlers: services.handlers,
    events: services.events,
    staticDir: dir,
    log: (line) => logged.push(line),
  });
  process.on('unhandledRejection', onUnhandled);
  api = await connectWsApi(server.origin, server.token, WebSocket as unknown as SocketConstructor);
  api.on('terminal:output', ({ data }) => {
    output += Buffer.from(data, 'base64').toString('utf8');
    wake?.();
  });
  session = (await api.call('terminal:open', { target: { workload: 'jumpbox' } })).id;
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  api?.close();
  await server?.close();
  await services?.terminal.closeAll();
  await localApi(services)
    .call('resources:down', {})
    .catch(() => undefined);
});

let round = 0;
/** Types `echo` into the terminal opened first and waits for its answer. */
async function terminalEchoes(): Promise<boolean> {
  const mark = `fuzz-${++round}-ok`;
  await api.call('terminal:input', { id: session, data: `echo ${mark.replace('-ok', "-o''k")}\r` });
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 20_000);
    const check = () => {
      if (!output.includes(mark)) return;
      clearTimeout(timer);
      wake = undefined;
      resolve(true);
    };
    wake = check;
    check();
  });
}

describe('the browser transport under hostile clients', () => {
  it(`survives ${numRuns} of them (seed ${seed}) and keeps serving the page, calls and terminals`, async () => {
    console.log(`web fuzz: seed ${seed}, ${numRuns} cases`);
    await fc.assert(
      fc.asyncProperty(
        hostileCases({ port: Number(new URL(server.origin).port), token: server.token }),
        async (c) => {
          await play({ port: Number(new URL(server.origin).port), token: server.token }, c);
          const page = await fetch(`${server.origin}/`);
          await page.arrayBuffer();
          const problems = [
            page.status === 200 ? '' : `GET / answered ${page.status}`,
            (await api.call('terminal:list', {})).some((s) => s.id === session)
              ? ''
              : 'the terminal session is gone',
            (await terminalEchoes()) ? '' : 'the terminal did not echo',
            logged.length ? `logged: ${logged.join(' | ')}` : '',
            unhandled.length ? `unhandled: ${String(unhandled[0])}` : '',
          ].filter(Boolean);
          if (problems.length) throw new Error(`after ${describeCase(c)}: ${problems.join('; ')}`);
        },
      ),
      { seed, numRuns, endOnFailure: true },
    );
    // Nothing a client sent reached the token into the log.
    expect(logged.join('\n')).not.toContain(server.token);
  });
});
