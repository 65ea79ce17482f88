/**
 * The shop's figures (issue 3), on the real engine, in a project of their own:
 *   - warm start to all-healthy, `microlab up` next to compose started from a compose file
 *     generated from the same declaration, as a ratio measured in this run;
 *   - the memory of each deployment (the sum over its containers);
 *   - latency and throughput for the same load on both: the cost of decomposition.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type Docker from 'dockerode';
import type { LoadReport } from '../electron/api/contract';
import { DEPLOYMENTS } from '../electron/api/vocabulary';
import { subnetPool } from '../electron/engine/subnets';
import { localApi } from '../electron/api/local';
import { createServices } from '../electron/services';
import { pickSubnet, takenSubnets } from '../electron/topology/apply';
import { composeFile } from '../electron/topology/compose';
import { deployments } from '../electron/topology/declarations';
import { pollUntil } from '../electron/wait';
import { report } from './lib';

const PROJECT = 'microlab-bench-shop';
const RUNS = 3;
/** A load both deployments carry without queueing on a 2-core machine: the cost of the hops. */
const SAME_RATE = 20;

function exec(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => resolve({ code: -1, output: err.message }));
    child.on('exit', (code) => resolve({ code: code ?? -1, output }));
  });
}

interface Compose {
  /** How it is called: `docker compose` (v2, has --wait) or `docker-compose` (v1). */
  command: string[];
  version: string;
  hasWait: boolean;
}

async function findCompose(): Promise<Compose | string> {
  const v2 = await exec('docker', ['compose', 'version', '--short']);
  if (v2.code === 0) return { command: ['docker', 'compose'], version: v2.output.trim(), hasWait: true };
  const v1 = await exec('docker-compose', ['version', '--short']);
  if (v1.code === 0) return { command: ['docker-compose'], version: v1.output.trim(), hasWait: false };
  return 'neither `docker compose` (the compose plugin) nor `docker-compose` is installed';
}

/** Waits until every container of a compose project is healthy (what `up --wait` does). */
async function waitComposeHealthy(docker: Docker, composeProject: string, expected: number): Promise<void> {
  const allHealthy = async () => {
    const containers = await docker.listContainers({
      all: true,
      filters: { label: [`com.docker.compose.project=${composeProject}`] },
    });
    const healthy = containers.filter((c) => /\(healthy\)/.test(c.Status)).length;
    if (containers.length >= expected && healthy === containers.length) return true;
    const dead = containers.find((c) => c.State === 'exited');
    if (dead) throw new Error(`${dead.Names[0]} exited: ${dead.Status}`);
    return false;
  };
  await pollUntil(allHealthy, { what: `every container of ${composeProject} healthy`, limitMs: 300_000 });
}

export async function benchDeployments(): Promise<void> {
  const services = createServices({ project: PROJECT });
  const { call, run } = localApi(services);
  const load = async (rate: number, duration: number): Promise<LoadReport> => {
    const final = await run('load:run', { rate, duration });
    return call('load:report', { taskId: final.id });
  };
  const docker = (await services.registry.get()).docker;

  console.log('\n## The shop: monolith and microservices');
  await run('images:prepare', {});
  await call('resources:down', {});
  const compose = await findCompose();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-bench-'));
  if (typeof compose === 'string') console.log(`compose: not measured: ${compose}`);
  else
    console.log(
      `compose: ${compose.command.join(' ')} ${compose.version}${compose.hasWait ? ' (up --wait)' : ' (v1 has no --wait: `up -d`, then the same wait for healthy as MicroLab)'}`,
    );

  try {
    for (const name of DEPLOYMENTS) {
      const d = deployments[name];
      const ours: number[] = [];
      const theirs: number[] = [];
      const upOurs = async () => {
        const start = performance.now();
        await run('deploy:up', { deployment: name, port: 0 });
        return performance.now() - start;
      };
      const upCompose = async (c: Compose): Promise<number> => {
        for (let attempt = 1; ; attempt++) {
          const taken = await takenSubnets(docker);
          const lab = pickSubnet(subnetPool(), taken)!;
          const edge = pickSubnet(subnetPool(), [...taken, { cidr: lab, by: 'lab' }])!;
          const file = path.join(dir, `${name}.yaml`);
          await writeFile(file, composeFile(d, { project: PROJECT, port: 0, subnets: { lab, edge } }));
          const composeProject = `${PROJECT}-compose`;
          const start = performance.now();
          const args = [
            ...c.command.slice(1),
            ...['-p', composeProject, '-f', file, 'up', '-d'],
            ...(c.hasWait ? ['--wait'] : []),
          ];
          const result = await exec(c.command[0]!, args);
          if (result.code !== 0) {
            // Another project took the subnet between our pick and compose's create: pick again.
            await call('resources:down', {});
            if (attempt < 3 && /overlap/i.test(result.output)) continue;
            throw new Error(`compose up failed: ${result.output.slice(-500)}`);
          }
          if (!c.hasWait) await waitComposeHealthy(docker, composeProject, d.workloads.length);
          return performance.now() - start;
        }
      };
      // One untimed round first: the same warm caches for both.
      for (let i = 0; i <= RUNS; i++) {
        const a = await upOurs();
        await call('resources:down', {});
        if (i > 0) ours.push(a);
        if (typeof compose !== 'string') {
          const b = await upCompose(compose);
          await call('resources:down', {});
          if (i > 0) theirs.push(b);
        }
      }
      const composeFigure = { name: 'compose', unit: 'ms', samples: theirs };
      report(
        { name: `${name}: warm start to all healthy, microlab up`, unit: 'ms', samples: ours },
        theirs.length ? composeFigure : undefined,
      );
      if (theirs.length)
        report({
          name: `${name}: warm start to all healthy, compose up${typeof compose !== 'string' && compose.hasWait ? ' --wait' : ''}`,
          unit: 'ms',
          samples: theirs,
        });

      await run('deploy:up', { deployment: name, port: 0 });
      const idle = await call('deploy:status', {});
      const sum = (s: typeof idle) => s.workloads.reduce((n, w) => n + (w.memoryBytes ?? 0), 0) / 1024 / 1024;
      const same = await load(SAME_RATE, 20);
      const loaded = await call('deploy:status', {});
      const all = (r: LoadReport) => r.endpoints.find((e) => e.endpoint === 'all')!;
      console.log(
        `${name}: memory ${sum(idle).toFixed(0)} MB idle, ${sum(loaded).toFixed(0)} MB after load, in ${idle.workloads.length} containers`,
      );
      console.log(
        `${name}: ${SAME_RATE} scenarios/s for 20 s (browse=10,cart=3,checkout=1): ${all(same).rps} req/s, p50 ${all(same).p50} ms, p95 ${all(same).p95} ms, p99 ${all(same).p99} ms, ${all(same).errors} errors`,
      );
      for (const r of [same])
        if (r.errorSamples.length) console.log(`  errors: ${r.errorSamples.join('; ')}`);
      const heavy = await load(250, 10);
      console.log(
        `${name}: 250 scenarios/s for 10 s: ${all(heavy).rps} req/s served, p50 ${all(heavy).p50} ms, p95 ${all(heavy).p95} ms, ${all(heavy).errors} errors, ${heavy.dropped} scenarios dropped (400 in flight)`,
      );
      if (heavy.errorSamples.length) console.log(`  errors: ${heavy.errorSamples.join('; ')}`);
      await call('resources:down', {});
    }
  } finally {
    await call('resources:down', {}).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
