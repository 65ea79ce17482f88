/**
 * `npm run bench -- web-fuzz`: the browser transport's fuzz test run longer than `npm test`
 * runs it (test/integration/web-fuzz.test.ts: 120 cases, seed 15). MICROLAB_FUZZ_RUNS cases
 * (default 1000) with MICROLAB_FUZZ_SEED (default: a new one, printed, to replay a failure);
 * after each hostile client the page must still be served and calls answered. Prints the
 * cases per second, or the first case the server did not survive.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import WebSocket from 'ws';
import { EventBus } from '../electron/api/events';
import { connectWsApi } from '../electron/api/ws-client';
import type { SocketConstructor } from '../electron/api/ws-client';
import type { Handlers } from '../electron/api/dispatch';
import { startWebServer } from '../electron/api/ws-server';
import { describeCase, hostileCases, play } from '../test/web-fuzz';

export async function benchWebFuzz(): Promise<void> {
  const seed = Number(process.env.MICROLAB_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const numRuns = Number(process.env.MICROLAB_FUZZ_RUNS ?? 1000);
  console.log(
    `\n# Web transport fuzz\n  seed ${seed}, ${numRuns} cases (replay: MICROLAB_FUZZ_SEED=${seed})`,
  );
  const dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-ui-'));
  await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>MicroLab</title>');
  const logged: string[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  // The transport is under test, not the services: a method that answers from memory.
  const handlers = { 'terminal:list': async () => [] } as unknown as Handlers;
  const server = await startWebServer({
    handlers,
    events: new EventBus(),
    staticDir: dir,
    log: (l) => logged.push(l),
  });
  const api = await connectWsApi(server.origin, server.token, WebSocket as unknown as SocketConstructor);
  const target = { port: Number(new URL(server.origin).port), token: server.token };
  const start = performance.now();
  try {
    await fc.assert(
      fc.asyncProperty(hostileCases(target), async (c) => {
        await play(target, c);
        const page = await fetch(`${server.origin}/`);
        await page.arrayBuffer();
        await api.call('terminal:list', {});
        if (page.status !== 200 || logged.length || unhandled.length)
          throw new Error(
            `after ${describeCase(c)}: GET / ${page.status}; logged ${logged.join(' | ')}; unhandled ${unhandled.map(String).join(' | ')}`,
          );
      }),
      { seed, numRuns, endOnFailure: true },
    );
    const seconds = (performance.now() - start) / 1000;
    console.log(
      `  survived ${numRuns} hostile clients in ${seconds.toFixed(1)} s (${(numRuns / seconds).toFixed(1)} cases/s)`,
    );
  } catch (err) {
    console.log(`  FAILED: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    api.close();
    await server.close();
  }
}
