/**
 * The live class under a room's load (issue 17): 200 simulated students (in a process of their
 * own, `dist/bench.js class-students`) each send one progress event a second over pinned TLS to
 * a class host in this process, for 30 s. Printed, never asserted:
 *
 * - the dashboard's update latency: from an event made on a student's laptop to the first
 *   dashboard that shows it, fetched as the Class view fetches it (`GET /class/v1/state` over
 *   HTTPS with the instructor's token, every CLASS_DASHBOARD_POLL_MS as ClassView.tsx does), p50/p95;
 * - the acknowledgement latency a student sees (event made -> host stored it, synced, and said
 *   so), p50/p95;
 * - the dashboard's fetch with the whole room (what each poll of the Class view costs: the
 *   dashboard computed from the ledger, serialized, sent), p50/p95;
 * - the host process's CPU (percent of one core over the window) and memory (RSS);
 * - the dashboard's computation once each student holds 360 events more (a 3-hour class at one
 *   event every 30 s): it is computed from the whole ledger.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { instructorDashboard } from '../test/class-support';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { post } from '../electron/class/client';
import { ClassHost } from '../electron/class/host';
import { decodeJoinCode, type BatchAnswer, type JoinAnswer } from '../electron/class/protocol';
import { ClassStore } from '../electron/class/store';
import { loadLabs } from '../electron/labs/loader';
import { labsDir } from '../electron/paths';
import { CLASS_DASHBOARD_POLL_MS, type ClassDashboard } from '../electron/api/class';
import { median, percentile } from './lib';

const STUDENTS = Number(process.env.MICROLAB_BENCH_CLASS_STUDENTS ?? 200);
const SECONDS = Number(process.env.MICROLAB_BENCH_CLASS_SECONDS ?? 30);
/** How often the dashboard is fetched, ms: the Class view's interval unless set. */
const POLL_MS = Number(process.env.MICROLAB_BENCH_CLASS_POLL_MS ?? CLASS_DASHBOARD_POLL_MS);

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

/** The dashboard as the Class view fetches it: HTTPS, the instructor's token, the host's Host. */
function fetchDashboard(host: ClassHost): Promise<ClassDashboard> {
  const { address, port } = host.store.data.class;
  return instructorDashboard(address, port, host.store.data.instructorToken);
}

export async function benchClass(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mlc-bench-'));
  const store = new ClassStore(dir);
  await store.create('lo', '127.0.0.1', 0, true);
  const { labs } = await loadLabs(path.join(labsDir(), 'guides'));
  const host = new ClassHost({ store, labs: labs.map((l) => l.lab) });
  await host.start();
  console.log(`class: ${STUDENTS} students, one event a second each, ${SECONDS} s, pinned TLS to 127.0.0.1`);
  const child = spawn(process.execPath, [process.argv[1]!, 'class-students', host.joinCode()], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  // Wait for the room to have joined, then measure the host over the sending window.
  while (store.data.students.length < STUDENTS) await new Promise((r) => setTimeout(r, 200));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const dashboardMs: number[] = [];
  // When each student's events first showed, epoch ms: shownAt[name][n - 1] for its n-th hint.
  const shownAt = new Map<string, number[]>();
  const fetchErrors: string[] = [];
  let rss = 0;
  let polling = true;
  const polls = (async () => {
    while (polling) {
      const next = performance.now() + POLL_MS;
      const start = performance.now();
      const board = await fetchDashboard(host).catch((err: unknown) => {
        fetchErrors.push((err as Error).message);
        return undefined;
      });
      const at = Date.now();
      if (board) dashboardMs.push(performance.now() - start);
      for (const s of board?.students ?? []) {
        const shown = shownAt.get(s.name) ?? [];
        while (shown.length < s.totals.hint) shown.push(at);
        shownAt.set(s.name, shown);
      }
      rss = Math.max(rss, process.memoryUsage().rss);
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
  })();
  // 'close', not 'exit': the process may exit before its stdout (the acks' JSON) is all read.
  const exit = await new Promise<number | null>((r) => child.once('close', r));
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  // One poll more after the last event, so that every acknowledged event was fetched once.
  await new Promise((r) => setTimeout(r, POLL_MS + 100));
  polling = false;
  await polls;
  if (exit !== 0) {
    await host.stop();
    await rm(dir, { recursive: true, force: true });
    throw new Error(`the students' process exited with code ${exit} (its error above)`);
  }
  if (fetchErrors.length)
    console.log(`class: ${fetchErrors.length} dashboard fetches failed, the first: ${fetchErrors[0]}`);
  const acks = JSON.parse(out.trim().split('\n').at(-1)!) as {
    ackMs: number[];
    failed: number;
    cpuPercent: number;
    madeAt: number[][];
  };
  const updateMs: number[] = [];
  acks.madeAt.forEach((made, i) => {
    const shown = shownAt.get(`Student ${i}`) ?? [];
    made.forEach((t, n) => {
      if (shown[n] !== undefined) updateMs.push(shown[n] - t);
    });
  });
  console.log(
    `class: dashboard update latency (event made -> first dashboard fetched every ${POLL_MS} ms that shows it) p50 ${fmt(median(updateMs))} ms, p95 ${fmt(percentile(updateMs, 95))} ms (n=${updateMs.length})`,
  );
  console.log(
    `class: ack latency p50 ${fmt(median(acks.ackMs))} ms, p95 ${fmt(percentile(acks.ackMs, 95))} ms (n=${acks.ackMs.length} of ${STUDENTS * SECONDS} meant, failed ${acks.failed}; the students' process used ${fmt(acks.cpuPercent)}% of one core; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores)`,
  );
  console.log(
    `class: dashboard fetch with the room p50 ${fmt(median(dashboardMs))} ms, p95 ${fmt(percentile(dashboardMs, 95))} ms (n=${dashboardMs.length}); events held ${Object.values(host.dashboard().totals).reduce((a, b) => a + b, 0)}`,
  );
  console.log(
    `class: host CPU ${fmt(((cpu.user + cpu.system) / 1000 / wall) * 100)}% of one core, RSS at most ${fmt(rss / 1024 / 1024)} MiB`,
  );
  // A long class: each student's ledger as after 3 hours at one event every 30 s, held in memory.
  const LONG = 360;
  for (const student of store.data.students)
    store.ledger.accept(
      student.key,
      Array.from({ length: LONG }, (_, n) => ({
        id: `hint/long/step/${n + 1}`,
        kind: 'hint' as const,
        at: new Date().toISOString(),
        lab: 'long',
        step: 'step',
        hint: n + 1,
      })),
    );
  const longMs: number[] = [];
  for (let n = 0; n < 5; n++) {
    const start = performance.now();
    host.dashboard();
    longMs.push(performance.now() - start);
  }
  console.log(
    `class: the dashboard's computation with ${LONG} events more per student (a 3-hour class at one event every 30 s; ${Object.values(host.dashboard().totals).reduce((a, b) => a + b, 0)} events) median ${fmt(median(longMs))} ms (min ${fmt(Math.min(...longMs))}, max ${fmt(Math.max(...longMs))}, n=5)`,
  );
  await host.stop();
  await rm(dir, { recursive: true, force: true });
}

/** The students' side (a process of its own): joins, sends, prints `{ackMs, failed, cpuPercent, madeAt}` as JSON. */
export async function runClassStudents(codeText: string): Promise<void> {
  const code = decodeJoinCode(codeText);
  const tokens: string[] = [];
  for (let i = 0; i < STUDENTS; i++) {
    const ask = () =>
      post<JoinAnswer>(code, '/class/v1/join', code.token, {
        name: `Student ${i}`,
        nonce: `bench-student-nonce-${String(i).padStart(20, '0')}`,
      });
    // A join lost on a busy machine is asked again, as the client does: the same nonce is the
    // same student, and the token stays on offer until its first use.
    const answer = await ask()
      .catch(ask)
      .catch(ask)
      .catch((err: unknown) => {
        throw new Error(`student ${i} could not join three times: ${(err as Error).message}`);
      });
    if (answer.state !== 'approved') throw new Error(`student ${i}: ${answer.state}`);
    tokens.push(answer.token);
  }
  const ackMs: number[] = [];
  // When each student made each event, epoch ms (the host's clock: the same machine).
  const madeAt: number[][] = tokens.map(() => []);
  let failed = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = Date.now() + SECONDS * 1000;
  await Promise.all(
    tokens.map(async (token, i) => {
      // Spread the room over the second.
      await new Promise((r) => setTimeout(r, (i * 1000) / STUDENTS));
      for (let n = 1; Date.now() < end; n++) {
        const next = Date.now() + 1000;
        const start = performance.now();
        const made = Date.now();
        try {
          await post<BatchAnswer>(code, '/class/v1/events', token, {
            events: [
              {
                id: `hint/lab/step/${n}`,
                kind: 'hint',
                at: new Date().toISOString(),
                lab: 'lab',
                step: 'step',
                hint: n,
              },
            ],
          });
          ackMs.push(performance.now() - start);
          // The n-th event the host holds is the n-th that succeeded.
          madeAt[i]!.push(made);
        } catch {
          failed++;
        }
        await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const cpuPercent = ((cpu.user + cpu.system) / 1000 / (performance.now() - t0)) * 100;
  process.stdout.write(`${JSON.stringify({ ackMs, failed, cpuPercent, madeAt })}\n`);
}
