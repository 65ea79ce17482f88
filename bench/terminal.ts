/**
 * Terminal figures, over the WebSocket transport the browser UI uses: the keystroke round
 * trip (a character typed into the shop's shell, until its echo arrives), next to the same
 * echo through the `docker exec -it` CLI; and the output throughput of `cat` of a 10 MB file.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { Api } from '../electron/api/contract';
import { localApi } from '../electron/api/local';
import { connectWsApi } from '../electron/api/ws-client';
import type { SocketConstructor } from '../electron/api/ws-client';
import { startWebServer } from '../electron/api/ws-server';
import { rendererDir } from '../electron/paths';
import { createServices } from '../electron/services';
import { sleep } from '../electron/wait';
import { median, percentile, report } from './lib';

const KEYSTROKES = 300;
const FILE_BYTES = 10 * 1024 * 1024;
const CAT_RUNS = 3;

/** Resolves when `test` holds for the text seen since the last `reset()` (its last 64 KiB). */
function watcher() {
  const WINDOW = 64 * 1024;
  let text = '';
  let bytes = 0;
  let wait: { test: (text: string) => boolean; resolve: () => void } | undefined;
  return {
    push(chunk: string, size: number) {
      text = (text + chunk).slice(-WINDOW);
      bytes += size;
      if (wait?.test(text)) {
        const { resolve } = wait;
        wait = undefined;
        resolve();
      }
    },
    until(test: (text: string) => boolean): Promise<void> {
      if (test(text)) return Promise.resolve();
      return new Promise((resolve) => (wait = { test, resolve }));
    },
    reset() {
      text = '';
      bytes = 0;
    },
    get bytes() {
      return bytes;
    },
  };
}

/** Types one character at a time and times its echo; Ctrl-U clears the line every 50. */
async function keystrokes(send: (data: string) => Promise<unknown>, seen: ReturnType<typeof watcher>) {
  const samples: number[] = [];
  for (let i = 0; i < KEYSTROKES; i++) {
    if (i % 50 === 0) {
      seen.reset();
      await send('\x15');
      await sleep(50);
    }
    const ch = 'abcdefghijklmnopqrstuvwxyz'[i % 26]!;
    seen.reset();
    const start = performance.now();
    await send(ch);
    await seen.until((t) => t.includes(ch));
    samples.push(performance.now() - start);
  }
  await send('\x15');
  return samples;
}

async function overWebSocket(api: Api) {
  const seen = watcher();
  let id = '';
  api.on('terminal:output', (o) => {
    if (o.id !== id) return;
    const bytes = Buffer.from(o.data, 'base64');
    seen.push(bytes.toString('latin1'), bytes.length);
  });
  const session = await api.call('terminal:open', { target: { workload: 'shop' }, cols: 120, rows: 40 });
  id = session.id;
  await seen.until((t) => /\$ $/.test(t));
  const send = (data: string) => api.call('terminal:input', { id, data });

  const typed = await keystrokes(send, seen);

  // A 10 MB file of base64 text (76-column lines), then `cat` it until the marker after it.
  seen.reset();
  // (Markers are computed by the shell, so the echo of the command line does not match them.)
  await send(`head -c ${(FILE_BYTES * 3) / 4} /dev/urandom | base64 > /tmp/bench-10mb; echo $((6*7))-MADE\r`);
  await seen.until((t) => t.includes('42-MADE\r\n'));
  const rates: number[] = [];
  for (let i = 0; i < CAT_RUNS; i++) {
    await sleep(200);
    seen.reset();
    const start = performance.now();
    await send('cat /tmp/bench-10mb; echo $((6*7))-DONE\r');
    await seen.until((t) => t.includes('42-DONE\r\n'));
    const seconds = (performance.now() - start) / 1000;
    rates.push(seen.bytes / 1e6 / seconds);
  }
  await send('rm -f /tmp/bench-10mb\r');
  await api.call('terminal:close', { id });
  return { typed, rates };
}

/** The same echo through the docker CLI's own TTY (`script` gives it one). */
async function overDockerCli(container: string): Promise<number[]> {
  // --echo never: `script` would otherwise echo input that does not come from a terminal itself.
  const child = spawn(
    'script',
    ['-qf', '--echo', 'never', '-c', `docker exec -it ${container} bash`, '/dev/null'],
    {
      stdio: ['pipe', 'pipe', 'ignore'],
    },
  );
  const seen = watcher();
  child.stdout.on('data', (d: Buffer) => seen.push(d.toString('latin1'), d.length));
  await seen.until((t) => /\$ $/.test(t));
  const send = (data: string) => new Promise<void>((resolve) => child.stdin.write(data, () => resolve()));
  const samples = await keystrokes(send, seen);
  child.stdin.end('exit\r');
  child.kill();
  return samples;
}

export async function benchTerminal(): Promise<void> {
  const services = createServices({ project: 'microlab-bench-terminal' });
  const { call, run } = localApi(services);
  console.log('\n# Terminal');
  await call('resources:down', {});
  const server = await startWebServer({
    handlers: services.handlers,
    events: services.events,
    staticDir: rendererDir(),
  });
  try {
    await run('deploy:up', { deployment: 'monolith', port: 0 });
    const status = await call('deploy:status', {});
    const shop = status.workloads.find((w) => w.workload === 'shop')!.container;

    const api = await connectWsApi(server.origin, server.token, WebSocket as unknown as SocketConstructor);
    const { typed, rates } = await overWebSocket(api);
    api.close();
    const cli = await overDockerCli(shop);

    report(
      { name: 'keystroke round trip over WebSocket (type, see the echo)', unit: 'ms', samples: typed },
      { name: '`docker exec -it` CLI echo', unit: 'ms', samples: cli },
    );
    console.log(
      `  p50 ${median(typed).toFixed(2)} ms, p95 ${percentile(typed, 95).toFixed(2)} ms; docker CLI p50 ${median(cli).toFixed(2)} ms, p95 ${percentile(cli, 95).toFixed(2)} ms (n=${KEYSTROKES})`,
    );
    report({ name: '`cat` of a 10 MB file to a WebSocket client', unit: 'MB/s', samples: rates });
  } finally {
    await services.terminal.closeAll();
    await server.close();
    await call('resources:down', {}).catch(() => undefined);
  }
}
