/**
 * Pods and the firewall agent (issue 7, parts 2 and 3), on the real microservices under the
 * segmented policy, in a project of its own:
 *   - a new replica's table in force relative to its first process: for each scale-out of
 *     catalog, the app container's start (Docker's `State.StartedAt`) minus the moment its
 *     holder confirmed its table (the holder's "microlab-load ... ok" line, timestamped by
 *     Docker); positive: the table was in force first (target: positive, always);
 *   - peers dropping a removed replica's address: a replica removed by hand (`docker rm -f`,
 *     no MicroLab process watching: the agent alone) to the last peer's reload confirmed,
 *     in ms (target under 1000);
 *   - policy apply with connection cutting, while a load runs (alternating two policies so
 *     every apply changes tables), against the same with `keepEstablished` in the same run.
 * Both clocks are the engine host's (Docker's timestamps, and this process on the same host).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { localApi } from '../electron/api/local';
import { tableNamesAddress } from '../electron/firewall/compile';
import { listInstances } from '../electron/firewall/instances';
import { execIn } from '../electron/engine/exec';
import { listSidecars } from '../electron/firewall/sidecar';
import { labsDir } from '../electron/paths';
import { pollUntil } from '../electron/wait';
import { createServices } from '../electron/services';
import { median, percentile, report } from './lib';

const PROJECT = 'microlab-bench-pods';
const RUNS = 5;
const APPLIES = 10;

/** A Docker timestamp (nanoseconds) as ms since the epoch. */
function dockerTime(text: string): number {
  return Date.parse(text.replace(/(\.\d{3})\d*Z$/, '$1Z'));
}

/** The times (ms) at which a holder confirmed a table load, from its log. */
async function loadTimes(docker: Docker, holderId: string): Promise<number[]> {
  const log = (await docker.getContainer(holderId).logs({ stdout: true, timestamps: true })) as Buffer;
  const times: number[] = [];
  for (const m of log.toString('latin1').matchAll(/(\d{4}-\d\d-\d\dT[\d:.]+Z) microlab-load \S+ ok/g))
    times.push(dockerTime(m[1]!));
  return times;
}

export async function benchPods(): Promise<void> {
  const previousStateDir = process.env.MICROLAB_STATE_DIR;
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'microlab-bench-pods-'));
  process.env.MICROLAB_STATE_DIR = stateDir;
  const docker = new Docker();
  const services = createServices({ project: PROJECT });
  const { call, run } = localApi(services);
  const policy = (name: string) => path.join(labsDir(), 'policies', `microservices-${name}.yaml`);
  const replica = `${PROJECT}-catalog-2`;

  console.log('\n## Pods and the firewall agent (microservices, segmented policy)');
  try {
    await run('images:prepare', {});
    await call('resources:down', {});
    await run('deploy:up', { deployment: 'microservices', port: 0 });
    await call('policy:apply', { file: policy('segmented') });

    const margins: number[] = [];
    const drops: number[] = [];
    /** Runs where a peer kept the removed address (a defect), and where none did but a peer's reload was not seen in its log. */
    const stale: string[] = [];
    let unconfirmed = 0;
    for (let i = 0; i < RUNS; i++) {
      await run('deploy:scale', { service: 'catalog', replicas: 2 });
      const app = await docker.getContainer(replica).inspect();
      const holderId = app.HostConfig.NetworkMode!.slice('container:'.length);
      const [first] = await loadTimes(docker, holderId);
      if (first === undefined) throw new Error(`${replica}: its holder never confirmed a table`);
      margins.push(dockerTime(app.State.StartedAt) - first);

      // The peers holding the new replica's address, then it goes by hand.
      const address = Object.values(
        (await listInstances(docker, PROJECT)).find((x) => x.containerName === replica)!.addresses,
      )[0]!;
      const holders = (await listSidecars(docker, PROJECT)).filter((s) => s.holder && s.running);
      const tableOf = async (id: string) =>
        (await execIn(docker, id, ['nft', 'list', 'table', 'inet', 'microlab'])).output;
      const peers: string[] = [];
      for (const h of holders)
        if (h.id !== holderId && tableNamesAddress(await tableOf(h.id), address)) peers.push(h.id);
      const removedAt = Date.now();
      await docker.getContainer(replica).remove({ force: true });
      const reloads = await pollUntil(
        async () => {
          const times = await Promise.all(
            peers.map(async (p) => (await loadTimes(docker, p)).find((t) => t > removedAt)),
          );
          return times.every((t) => t !== undefined) && times;
        },
        { what: 'every peer reloaded', limitMs: 30_000, everyMs: 50 },
      ).catch(() => undefined);
      const still: string[] = [];
      for (const p of peers) if (tableNamesAddress(await tableOf(p), address)) still.push(p);
      if (still.length) stale.push(`run ${i + 1}: ${still.length} peers still hold ${address} after 30 s`);
      else if (!reloads) unconfirmed++;
      else drops.push(Math.max(...(reloads as number[])) - removedAt);
    }
    report({
      name: 'a new replica: its first process starts after its table is in force, by',
      unit: 'ms',
      samples: margins,
    });
    console.log(
      `  ${margins.filter((m) => m <= 0).length} of ${RUNS} started before their table (target: 0)`,
    );
    report({
      name: 'a replica removed by hand: every peer has dropped its address after (agent only)',
      unit: 'ms',
      samples: drops,
    });
    console.log(
      `  ${stale.length} of ${RUNS} runs left the address in a peer's table (target: 0)${stale.length ? `: ${stale.join('; ')}` : ''}; ${unconfirmed} runs without the peers' reloads seen in their logs (their tables were clean)`,
    );

    // Apply with cutting, under load (so there are connections to cut), against keepEstablished.
    const loading = run('load:run', { rate: 30, duration: 4 * APPLIES });
    const timed = async (keepEstablished: boolean) => {
      const times: number[] = [];
      let cut = 0;
      for (let i = 0; i < APPLIES; i++) {
        const r = await call('policy:apply', {
          file: policy(i % 2 ? 'segmented' : 'broken-selector'),
          keepEstablished,
        });
        times.push(r.report.durationMs);
        cut += r.report.connectionsCut;
      }
      return { times, cut };
    };
    const cutting = await timed(false);
    const keeping = await timed(true);
    await loading.catch(() => undefined);
    report(
      {
        name: 'policy apply on the shop, cutting the connections it denies',
        unit: 'ms',
        samples: cutting.times,
      },
      { name: 'the same with keepEstablished', unit: 'ms', samples: keeping.times },
    );
    console.log(
      `  p50 ${median(cutting.times)} ms, p95 ${percentile(cutting.times, 95)} ms; ${cutting.cut} connections cut over ${APPLIES} applies`,
    );
  } finally {
    services.firewall.close();
    await call('resources:down', {}).catch(() => undefined);
    if (previousStateDir === undefined) delete process.env.MICROLAB_STATE_DIR;
    else process.env.MICROLAB_STATE_DIR = previousStateDir;
    await rm(stateDir, { recursive: true, force: true });
  }
}
