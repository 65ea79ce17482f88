/**
 * The firewall's cost on the real shop (the microservices deployment, in a project of its
 * own): the load generator's throughput with the segmented policy enforced against mode off,
 * as a ratio in the same run (rounds alternate, so drift on a shared machine hits both), the
 * full reachability matrix probe under the segmented policy, and the blast radius of one
 * workload (the jumpbox), expected and observed, under the same policy.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LoadReport } from '../electron/api/contract';
import { labsDir } from '../electron/paths';
import { localApi } from '../electron/api/local';
import { createServices } from '../electron/services';
import { median, report } from './lib';

const PROJECT = 'microlab-bench-shopfw';
/**
 * Scenarios started per second: about 920 requests/s, well above what two cores serve (about
 * 540), so requests/s is the capacity. At 200 (about 460 requests/s) both modes serve all that
 * is offered and the ratio says nothing.
 */
const RATE = 400;
const SECONDS = 8;
const ROUNDS = 3;
const PROBES = 5;

export async function benchShopFirewall(): Promise<void> {
  const previousStateDir = process.env.MICROLAB_STATE_DIR;
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'microlab-bench-shopfw-'));
  process.env.MICROLAB_STATE_DIR = stateDir;
  const services = createServices({ project: PROJECT });
  const { call, run } = localApi(services);
  const policy = (name: string) => path.join(labsDir(), 'policies', `microservices-${name}.yaml`);
  const apply = async (name: string) => {
    const result = await call('policy:apply', { file: policy(name) });
    const failed = result.report.tables.filter((t) => t.error);
    if (failed.length) throw new Error(`policy ${name}: ${failed.map((t) => t.error).join('; ')}`);
  };
  const load = async (): Promise<LoadReport> => {
    const final = await run('load:run', { rate: RATE, duration: SECONDS });
    return call('load:report', { taskId: final.id });
  };
  const all = (r: LoadReport) => r.endpoints.find((e) => e.endpoint === 'all')!;

  console.log('\n## The firewall on the shop (microservices)');
  try {
    await run('images:prepare', {});
    await call('resources:down', {});
    await apply('flat');
    await run('deploy:up', { deployment: 'microservices', port: 0 });
    await load(); // warm-up: connections, JIT, Postgres caches

    const off: number[] = [];
    const enforced: number[] = [];
    const latency = { off: [] as number[], enforced: [] as number[] };
    const errors = { off: 0, enforced: 0 };
    const samples = new Set<string>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of ['off', 'enforced'] as const) {
        await apply(mode === 'off' ? 'flat' : 'segmented');
        const r = await load();
        (mode === 'off' ? off : enforced).push(all(r).rps);
        latency[mode].push(all(r).p50);
        errors[mode] += all(r).errors;
        for (const e of r.errorSamples.slice(0, 3)) samples.add(`${mode}: ${e}`);
      }
    }
    report(
      { name: 'load throughput, segmented policy enforced', unit: 'req/s', samples: enforced },
      { name: 'mode off', unit: 'req/s', samples: off },
    );
    const overhead = (1 - median(enforced) / median(off)) * 100;
    console.log(
      `firewall overhead on throughput: ${overhead.toFixed(1)}% (target under 5%); p50 latency ${median(latency.enforced)} ms enforced, ${median(latency.off)} ms off; errors ${errors.enforced} enforced, ${errors.off} off (${RATE} scenarios/s offered, ${SECONDS} s x ${ROUNDS} rounds each)`,
    );

    if (samples.size) console.log(`  errors seen: ${[...samples].slice(0, 6).join('; ')}`);

    await apply('segmented');
    const durations: number[] = [];
    let mismatches = 0;
    let cells = 0;
    for (let i = 0; i < PROBES; i++) {
      const probe = await call('probe:run', {});
      durations.push(probe.durationMs);
      mismatches += probe.mismatches;
      cells = probe.cells.length;
    }
    report({
      name: `full matrix probe, segmented (${cells} cells, drops time out at 1 s)`,
      unit: 'ms',
      samples: durations,
    });
    console.log(
      `matrix mismatches over ${PROBES} probes: ${mismatches} (target: 0; time target under 3000 ms)`,
    );

    // The blast radius of one workload: the matrix restricted to the jumpbox's row.
    const matrix = { name: 'full matrix probe', unit: 'ms', samples: durations };
    for (const timeoutSeconds of [1, 0.5]) {
      const times: number[] = [];
      let differ = 0;
      let summary = '';
      for (let i = 0; i < PROBES; i++) {
        const r = await call('blast:radius', { workload: 'jumpbox', timeoutSeconds });
        times.push(r.durationMs);
        differ += r.mismatches;
        summary = r.summary;
      }
      report(
        {
          name: `blast radius of the jumpbox, segmented (drops time out at ${timeoutSeconds} s)`,
          unit: 'ms',
          samples: times,
        },
        matrix,
      );
      console.log(
        `  ${summary}; expected and observed differ on ${differ} ports over ${PROBES} runs (target: 0; time target under 1000 ms)`,
      );
    }
  } finally {
    services.firewall.close();
    await call('resources:down', {}).catch(() => undefined);
    if (previousStateDir === undefined) delete process.env.MICROLAB_STATE_DIR;
    else process.env.MICROLAB_STATE_DIR = previousStateDir;
    await rm(stateDir, { recursive: true, force: true });
  }
}
