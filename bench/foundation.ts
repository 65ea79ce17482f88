/**
 * Foundation figures: offline base-image provisioning, `microlab status` start-to-exit,
 * and the browser transport's round trip next to the engine's own /_ping.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import WebSocket from 'ws';
import { connectWsApi } from '../electron/api/ws-client';
import type { SocketConstructor } from '../electron/api/ws-client';
import { startWebServer } from '../electron/api/ws-server';
import { bootstrapOffline } from '../electron/engine/images';
import { appRoot, rendererDir } from '../electron/paths';
import { createServices } from '../electron/services';
import type { TaskContext } from '../electron/tasks';
import { report, timeRuns } from './lib';

const BENCH_IMAGE = 'microlab/base:bench';

export async function benchFoundation(): Promise<void> {
  const services = createServices({ project: 'microlab-bench' });
  const { docker } = await services.registry.get();

  console.log('\n# Foundation');

  // 1. `microlab status`, start to exit, next to a bare `node -e ""`.
  const cli = path.join(appRoot(), 'bin', 'microlab.js');
  const status = await timeRuns(
    10,
    async () => {
      const result = spawnSync(process.execPath, [cli, 'status'], { stdio: 'ignore' });
      if (result.status !== 0) throw new Error('microlab status failed');
    },
    1,
  );
  const bareNode = await timeRuns(
    10,
    async () => spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' }),
    1,
  );
  report(
    { name: '`microlab status` start to exit', unit: 'ms', samples: status },
    { name: 'bare `node -e ""`', unit: 'ms', samples: bareNode },
  );

  // 2. 1000 API calls over the WebSocket transport, next to 1000 plain /_ping requests to the engine.
  const server = await startWebServer({
    handlers: services.handlers,
    events: services.events,
    staticDir: rendererDir(),
  });
  const api = await connectWsApi(server.origin, server.token, WebSocket as unknown as SocketConstructor);
  const calls = await timeRuns(1000, () => api.call('tasks:list', {}), 50);
  const pings = await timeRuns(1000, () => docker.ping(), 50);
  api.close();
  await server.close();
  report(
    { name: 'API round trip over WebSocket (tasks:list, per call)', unit: 'ms', samples: calls },
    { name: "engine's /_ping", unit: 'ms', samples: pings },
  );

  // 3. Offline provisioning: debootstrap (with its package cache warm after the first run) to an imported image.
  const runs = Number(process.env.MICROLAB_BENCH_PROVISION_RUNS ?? 3);
  const ctx: TaskContext = { signal: new AbortController().signal, progress: () => undefined };
  const provision = await timeRuns(runs, async () => {
    await bootstrapOffline(docker, BENCH_IMAGE, ctx);
    await docker.getImage(BENCH_IMAGE).remove({ force: true });
  });
  report({
    name: 'offline base-image provisioning (debootstrap + trim + import)',
    unit: 's',
    samples: provision.map((ms) => ms / 1000),
  });
}
