/**
 * The lab runner's figures, on the real engine in a project of its own, through the same API
 * calls the UI makes:
 * - lab start from nothing (no container of the project; images present) until step 1 is
 *   ready: lab 1 (the monolith, flat);
 * - check latency, p50 and p95 (ms): a step whose checks only read state (lab 2, step 2: the
 *   student's policy file validated and its expected matrix compared), and a step whose
 *   checks probe flows (lab 1, step 3: the jumpbox's blast radius, observed by probes from
 *   inside its namespace, plus a quiz answer);
 * - reset of a step in the same deployment shape (lab 2, back to step 2's start: the
 *   monitor-mode skeleton policy in force again);
 * - every lab walked with "Show me": the machine's seconds per step, beside the lab's estimate;
 * - lab 3's capacity searches (the product search at 0.25 CPU per replica): how long each takes
 *   and the knee it found, for the monolith ×1 and ×3 and for catalog ×1 and ×3.
 * Targets (issue 9, 14): state checks under 300 ms, a probing step under 1.5 s, a step reset
 * under 5 s, a lab start under 15 s, the capacity searches under 60 s per shape. Printed, never
 * asserted.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { localApi } from '../electron/api/local';
import type { LabFigures } from '../electron/labs/figures';
import { createServices } from '../electron/services';
import { median, percentile, report, timeRuns } from './lib';

const PROJECT = 'microlab-bench-labs';
const STARTS = 3;
const CHECKS = 15;
const RESETS = 5;

type Api = ReturnType<typeof localApi>;

/** What one walk of a lab saw: the set-up's seconds, each step's seconds, each measure's value. */
interface Walk {
  setupSeconds: number;
  steps: Record<string, number>;
  measures: Record<string, number>;
}

/**
 * Every lab walked with "Show me", step by step: the seconds the machine takes per step (the
 * solve, which runs the step's actions and loads, then its check), which is the floor under a
 * student's time on the step (reading, predicting, typing come on top). Printed beside the
 * lab's own estimate. `walked` is told each lab's walk as it ends (its measured values read
 * from the progress the walk left).
 */
async function machineTimePerStep(
  call: Api['call'],
  run: Api['run'],
  walked?: (lab: string, walk: Walk) => Promise<void>,
  first: (lab: string) => boolean = () => false,
): Promise<void> {
  console.log('\nmachine time per step ("Show me" and Check), seconds:');
  const { labs } = await call('labs:list', {});
  for (const info of [...labs.filter((l) => first(l.id)), ...labs.filter((l) => !first(l.id))]) {
    const started = performance.now();
    await run('labs:start', { lab: info.id });
    const setup = (performance.now() - started) / 1000;
    const detail = await call('labs:get', { lab: info.id });
    const times: string[] = [];
    const walk: Walk = { setupSeconds: setup, steps: {}, measures: {} };
    let total = setup;
    for (const step of detail.steps) {
      for (const q of step.predict)
        await call('labs:answer', { question: q.id, answer: q.choices?.[0] ?? 'x' });
      const t0 = performance.now();
      await run('labs:solve', {});
      const r = await call('labs:check', {});
      if (!r.passed) throw new Error(`${info.id}, step ${step.index} does not pass after Show me`);
      const seconds = (performance.now() - t0) / 1000;
      total += seconds;
      walk.steps[step.id] = seconds;
      times.push(`${step.index}:${seconds.toFixed(0)}`);
      if (step.index < detail.steps.length) await call('labs:next', {});
    }
    console.log(
      `  ${info.id}: set-up ${setup.toFixed(0)} s; steps ${times.join(' ')}; total ${(total / 60).toFixed(1)} min of machine time (the lab says ${info.minutes} min)`,
    );
    const progress = (await call('labs:progress', {})).find((p) => p.lab === info.id);
    for (const step of Object.values(progress?.steps ?? {}))
      for (const m of step.measurements) walk.measures[m.id] = m.value;
    await walked?.(info.id, walk);
  }
}

/** Lab 3's capacity searches, as its steps run them: seconds each, the knee, and the sum per shape. */
async function capacitySearches(call: Api['call'], run: Api['run']): Promise<void> {
  console.log('\ncapacity searches (lab 3: search=1, 0.25 CPU per replica, p95 bound 1 s):');
  for (const [deployment, service] of [
    ['monolith', 'shop'],
    ['microservices', 'catalog'],
  ] as const) {
    await run('deploy:up', { deployment, port: 0 });
    let total = 0;
    const parts: string[] = [];
    for (const [replicas, start] of [
      [1, 5],
      [3, 20],
    ] as const) {
      await run('deploy:scale', { service, replicas, cpus: 0.25 });
      const t0 = performance.now();
      const final = await run('load:run', { rate: start, duration: 90, mix: { search: 1 }, capacity: {} });
      const seconds = (performance.now() - t0) / 1000;
      total += seconds;
      const r = await call('load:report', { taskId: final.id });
      parts.push(
        `×${replicas} ${seconds.toFixed(1)} s (${r.capacity?.steps.length ?? 0} steps, knee ${r.capacity?.knee?.served ?? '-'} requests/s)`,
      );
    }
    console.log(
      `  ${deployment}: ${parts.join('; ')}; ${total.toFixed(1)} s for the shape (target under 60 s)`,
    );
  }
}

/** `npm run bench -- capacity`: lab 3's capacity searches alone, in a project of their own. */
export async function benchCapacity(): Promise<void> {
  const services = createServices({ project: `${PROJECT}-capacity` });
  const { call, run } = localApi(services);
  console.log("\n## Lab 3's capacity searches");
  try {
    await run('images:prepare', {});
    await capacitySearches(call, run);
  } finally {
    await call('resources:down', {}).catch(() => undefined);
    services.firewall.close();
  }
}

export async function benchLabs(): Promise<void> {
  const previousStateDir = process.env.MICROLAB_STATE_DIR;
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'microlab-bench-labs-'));
  process.env.MICROLAB_STATE_DIR = stateDir;
  const services = createServices({ project: PROJECT });
  const { call, run } = localApi(services);
  const line = (name: string, samples: number[]) =>
    console.log(
      `${name}: p50 ${median(samples).toFixed(0)} ms, p95 ${percentile(samples, 95).toFixed(0)} ms (n=${samples.length})`,
    );

  console.log('\n## The guided labs');
  try {
    await run('images:prepare', {});

    const starts = await timeRuns(STARTS, async () => {
      await call('resources:down', {});
      await run('labs:start', { lab: 'monolith-flat' });
      const status = await call('labs:status', {});
      if (status.step !== 1) throw new Error(`lab 1 started at step ${status.step}, not 1`);
    });
    report({
      name: 'lab start from nothing to step 1 ready (lab 1, images present)',
      unit: 'ms',
      samples: starts,
    });

    // A step that probes flows: lab 1, step 3 (blast radius of the jumpbox, and a quiz).
    await run('labs:start', { lab: 'monolith-flat', step: 3 });
    await call('labs:answer', { question: 'domains', answer: 'all 5' });
    await call('labs:answer', { question: 'reached', answer: '3' });
    const probing = await timeRuns(CHECKS, async () => {
      const r = await call('labs:check', {});
      if (!r.passed) throw new Error(`lab 1, step 3 does not pass: ${JSON.stringify(r.results)}`);
    });
    line('check latency, a step that probes flows (lab 1, step 3: blast radius)', probing);

    // A step whose checks read state only: lab 2, step 2 (the workspace policy against the target).
    await run('labs:start', { lab: 'monolith-segmented', step: 2 });
    await run('labs:solve', {});
    const state = await timeRuns(CHECKS, async () => {
      const r = await call('labs:check', {});
      if (!r.passed) throw new Error(`lab 2, step 2 does not pass: ${JSON.stringify(r.results)}`);
    });
    line('check latency, a step that reads state only (lab 2, step 2: policy file)', state);

    const resets = await timeRuns(RESETS, () => run('labs:reset', { step: 2 }));
    report({ name: 'reset of a step, same deployment (lab 2, step 2)', unit: 'ms', samples: resets });

    await capacitySearches(call, run);
    await machineTimePerStep(call, run);
  } finally {
    await call('resources:down', {}).catch(() => undefined);
    services.firewall.close();
    if (previousStateDir === undefined) delete process.env.MICROLAB_STATE_DIR;
    else process.env.MICROLAB_STATE_DIR = previousStateDir;
    await rm(stateDir, { recursive: true, force: true });
  }
}

/**
 * `npm run bench -- labs-record`: every lab walked once with "Show me" (as the labs section
 * does), its figures written to labs/guides/figures.json (electron/labs/figures.ts) with the
 * machine it ran on, after each lab (a walk cut short keeps the labs it finished); a run on
 * the same machine adds its values to those already there, labs not recorded yet first. The
 * instructor's guide prints them as what to expect on this kind of machine.
 */
export async function benchLabsRecord(): Promise<void> {
  const file = path.resolve('labs', 'guides', 'figures.json');
  const previousStateDir = process.env.MICROLAB_STATE_DIR;
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'microlab-bench-labs-'));
  process.env.MICROLAB_STATE_DIR = stateDir;
  // The storefront on any free port: another MicroLab on this machine may hold the default.
  process.env.MICROLAB_LAB_PORT ??= '0';
  const services = createServices({ project: `${PROJECT}-record` });
  const { call, run } = localApi(services);
  console.log('\n## The guided labs, recorded for the guide');
  try {
    await run('images:prepare', {});
    const status = await call('engine:status', {});
    const cpus = os.cpus();
    const machine: LabFigures['machine'] = {
      cpu: cpus[0]?.model.replace(/\s+/g, ' ').trim() || 'unknown',
      cpus: cpus.length,
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      arch: os.arch(),
      os: `${os.platform()} ${os.release()}`,
      engine: status.engineName,
      engineVersion: status.engineVersion,
    };
    // Runs on the same machine add up (each figure one more value); another machine starts over.
    const before = await readFile(file, 'utf8').then(
      (text) => JSON.parse(text) as LabFigures,
      () => undefined,
    );
    const same = before && JSON.stringify(before.machine) === JSON.stringify(machine);
    const figures: LabFigures = same ? before : { machine, date: '', labs: {} };
    figures.date = new Date().toISOString();
    console.log(
      same ? '  adding to the runs already recorded on this machine' : '  a new file for this machine',
    );
    const round = (x: number) => Math.round(x * 10) / 10;
    const add = (to: Record<string, number[]>, from: Record<string, number>, f: (x: number) => number) => {
      for (const [id, x] of Object.entries(from)) (to[id] ??= []).push(f(x));
    };
    await machineTimePerStep(
      call,
      run,
      async (lab, walk) => {
        const entry = (figures.labs[lab] ??= { runs: 0, setupSeconds: [], steps: {}, measures: {} });
        entry.runs += 1;
        entry.setupSeconds.push(round(walk.setupSeconds));
        add(entry.steps, walk.steps, round);
        add(entry.measures, walk.measures, (x) => x);
        await writeFile(file, JSON.stringify(figures, null, 2) + '\n');
        console.log(`  recorded in ${path.relative(process.cwd(), file)} (${entry.runs} runs of ${lab})`);
      },
      // The labs with the fewest runs first, so a walk cut short fills the gaps.
      (lab) => !figures.labs[lab],
    );
  } finally {
    await call('resources:down', {}).catch(() => undefined);
    services.firewall.close();
    if (previousStateDir === undefined) delete process.env.MICROLAB_STATE_DIR;
    else process.env.MICROLAB_STATE_DIR = previousStateDir;
    await rm(stateDir, { recursive: true, force: true });
  }
}
