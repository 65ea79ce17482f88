/**
 * The live class over a real network (issue 17): 20 students, each a `microlab class join`
 * process in a network namespace of its own (`ip netns`, a veth pair to a bridge on the host;
 * real TCP, real TLS), join the instructor's `microlab class host` on that bridge, push progress
 * as their progress files change, lose the network (their link down) and come back, and the
 * host is killed and started again mid-class (the same student processes reconnect by
 * themselves): the dashboard's totals equal, exactly, the sum of the events the students'
 * progress holds; then the instructor ends the class and every student's MicroLab stops, saying
 * so. (A student who really walks a lab on the engine: class-lab.test.ts.) Needs root (ip netns)
 * and `npm run build`. Every
 * namespace, veth and bridge it makes is named `mlc-...`/`mlc...` with this run's tag and removed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { instructorDashboard } from '../class-support';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClassDashboard } from '../../electron/api/class';
import {
  encodeJoinCode,
  eventsFromProgress,
  zeroTotals,
  type KindTotals,
} from '../../electron/class/protocol';
import { ProgressStore, stepProgress } from '../../electron/labs/progress';

const STUDENTS = 20;
const root = path.resolve(import.meta.dirname, '../..');
const cliPath = path.join(root, 'bin/microlab.js');
const tag = randomBytes(2).toString('hex');
const bridge = `mlcb${tag}`;
const subnet = `10.253.${16 + (parseInt(tag, 16) % 200)}`;
const ns = (i: number) => `mlc-${tag}-s${i}`;
const vethHost = (i: number) => `mlc${tag}s${i}a`;
const vethNs = (i: number) => `mlc${tag}s${i}b`;

let dir: string;
let hostProc: ChildProcess | undefined;
const students: { proc?: ChildProcess; store: ProgressStore; log: string }[] = [];
let instructorToken = '';
let port = 0;

function sh(cmd: string[]): void {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr || r.stdout}`);
}

/** Starts the host; resolves once it printed its dashboard address. */
async function startHost(): Promise<void> {
  const proc = spawn(
    process.execPath,
    [cliPath, 'class', 'host', '--interface', bridge, '--port', '0', '--auto-approve'],
    {
      env: { ...process.env, MICROLAB_STATE_DIR: path.join(dir, 'host') },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  hostProc = proc;
  let text = '';
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (c: Buffer) => {
      text += c.toString();
      const m = /https:\/\/[0-9.]+:(\d+)\/#class=([A-Za-z0-9_-]+)/.exec(text);
      if (m) {
        port = Number(m[1]);
        instructorToken = m[2]!;
        resolve();
      }
    });
    proc.stderr!.on('data', () => undefined);
    proc.once('exit', (code) => reject(new Error(`class host exited (${code}): ${text}`)));
  });
}

function dashboard(): Promise<ClassDashboard> {
  return instructorDashboard(`${subnet}.1`, port, instructorToken);
}

/** The events each student's progress holds, summed per kind: what the dashboard must show. */
async function expected(): Promise<KindTotals> {
  const totals = zeroTotals();
  for (const s of students) for (const e of eventsFromProgress(await s.store.read())) totals[e.kind]++;
  return totals;
}

/** A student works on: a step started, checks run, hints shown, a measurement, a pass. */
async function work(i: number, round: number): Promise<void> {
  await students[i]!.store.update((p) => {
    const step = `step-${round}`;
    const s = stepProgress(p, 'monolith-flat', step);
    s.startedAt ??= new Date().toISOString();
    s.attempts += 1 + (i % 3);
    s.hintsShown += i % 2;
    s.measurements.push({
      id: `m${round}`,
      label: 'domains',
      unit: '',
      value: (i * round) % 6,
      source: 'test',
      at: new Date(Date.now() + i).toISOString(),
    });
    if (i % 4 === 0) {
      s.outcome = 'passed';
      s.doneAt = new Date().toISOString();
      s.seconds = 60 + i;
    }
  });
}

async function settled(): Promise<ClassDashboard> {
  const want = await expected();
  let last: ClassDashboard | undefined;
  await expect
    .poll(
      async () => {
        last = await dashboard().catch(() => undefined);
        return last?.totals;
      },
      { timeout: 60_000, interval: 500 },
    )
    .toEqual(want);
  return last!;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mlc-live-'));
  sh(['ip', 'link', 'add', bridge, 'type', 'bridge']);
  sh(['ip', 'addr', 'add', `${subnet}.1/24`, 'dev', bridge]);
  sh(['ip', 'link', 'set', bridge, 'up']);
  for (let i = 0; i < STUDENTS; i++) {
    sh(['ip', 'netns', 'add', ns(i)]);
    sh(['ip', 'link', 'add', vethHost(i), 'type', 'veth', 'peer', 'name', vethNs(i)]);
    sh(['ip', 'link', 'set', vethNs(i), 'netns', ns(i)]);
    sh(['ip', 'link', 'set', vethHost(i), 'master', bridge, 'up']);
    sh(['ip', '-n', ns(i), 'addr', 'add', `${subnet}.${10 + i}/24`, 'dev', vethNs(i)]);
    sh(['ip', '-n', ns(i), 'link', 'set', vethNs(i), 'up']);
    sh(['ip', '-n', ns(i), 'link', 'set', 'lo', 'up']);
    const state = path.join(dir, `s${i}`);
    students.push({
      store: new ProgressStore(path.join(state, 'microlab', 'labs', 'progress.json'), 'student'),
      log: '',
    });
  }
  await startHost();
});

afterAll(async () => {
  for (const s of students) s.proc?.kill('SIGKILL');
  hostProc?.kill('SIGKILL');
  for (let i = 0; i < STUDENTS; i++) {
    spawnSync('ip', ['netns', 'del', ns(i)]);
    spawnSync('ip', ['link', 'del', vethHost(i)]);
  }
  spawnSync('ip', ['link', 'del', bridge]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a live class of 20 students in their own network namespaces', () => {
  it('counts every event once through lost links and a host restart, and ends cleanly', async () => {
    const argv = spawnSync(process.execPath, [cliPath, 'class', 'join', 'MLC1.x'], { encoding: 'utf8' });
    expect(argv.stderr).toMatch(/takes no code as an argument/);

    // The students join from their namespaces (the code in their environment, not on argv).
    const classJson = JSON.parse(
      await readFile(path.join(dir, 'host', 'microlab', 'class-host', 'class.json'), 'utf8'),
    ) as { classToken: string; fingerprint: string; class: { address: string; port: number } };
    const text = encodeJoinCode({
      host: classJson.class.address,
      port: classJson.class.port,
      token: classJson.classToken,
      fingerprint: classJson.fingerprint,
    });
    expect(text).toMatch(/^MLC1\.\S+$/);
    for (let i = 0; i < STUDENTS; i++) {
      await work(i, 1);
      const proc = spawn(
        'ip',
        ['netns', 'exec', ns(i), process.execPath, cliPath, 'class', 'join', '--no-doctor'],
        {
          env: {
            ...process.env,
            MICROLAB_STATE_DIR: path.join(dir, `s${i}`),
            MICROLAB_STUDENT: `Student ${i}`,
            MICROLAB_CLASS_CODE: text,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      proc.stdout!.on('data', (c: Buffer) => (students[i]!.log += c.toString()));
      proc.stderr!.on('data', (c: Buffer) => (students[i]!.log += c.toString()));
      students[i]!.proc = proc;
    }
    let board = await settled();
    expect(board.students).toHaveLength(STUDENTS);
    expect(new Set(board.students.map((s) => s.address)).size).toBe(STUDENTS);
    expect(board.students.every((s) => s.state === 'approved')).toBe(true);

    // Half the room loses its link and works on; the others keep sending.
    for (let i = 0; i < STUDENTS / 2; i++) sh(['ip', 'link', 'set', vethHost(i), 'down']);
    for (let i = 0; i < STUDENTS; i++) await work(i, 2);
    await expect
      .poll(async () => (await dashboard()).students.filter((s) => s.step === 'step-2').length, {
        timeout: 30_000,
      })
      .toBe(STUDENTS / 2);
    for (let i = 0; i < STUDENTS / 2; i++) sh(['ip', 'link', 'set', vethHost(i), 'up']);
    board = await settled();
    expect(board.students.every((s) => s.step === 'step-2')).toBe(true);

    // The host is killed mid-class; the students work on; the host comes back from its store.
    const logged = students.map((s) => s.log.length);
    hostProc!.kill('SIGKILL');
    await new Promise((r) => hostProc!.once('exit', r));
    for (let i = 0; i < STUDENTS; i++) await work(i, 3);
    await new Promise((r) => setTimeout(r, 2000));
    await startHost();
    expect(port).toBe(classJson.class.port);
    board = await settled();
    expect(board.students).toHaveLength(STUDENTS);
    // They reconnected by themselves: the same \`class join\` processes, each saw the host go and come back.
    students.forEach((s, i) => {
      expect(s.proc!.exitCode, `Student ${i}`).toBeNull();
      expect(s.log.slice(logged[i]), `Student ${i}`).toMatch(/not reachable[\s\S]*back online/);
    });
    // Per student too: each one's totals are what its own progress holds.
    for (let i = 0; i < STUDENTS; i++) {
      const own = zeroTotals();
      for (const e of eventsFromProgress(await students[i]!.store.read())) own[e.kind]++;
      expect(board.students.find((s) => s.name === `Student ${i}`)?.totals, `Student ${i}`).toEqual(own);
    }
    // The class's numbers: the measurement of round 3 across the room.
    const lab = board.labs.find((l) => l.lab === 'monolith-flat');
    expect(lab).toBeDefined();
    for (const s of students) expect(s.log).not.toMatch(/MLC1\./);

    // The instructor ends the class: every student's MicroLab stops by itself and says so.
    const exits = students.map((s) => new Promise<number | null>((r) => s.proc!.once('exit', r)));
    hostProc!.stdin!.write('end\n');
    expect(await Promise.all(exits)).toEqual(students.map(() => 0));
    for (const s of students) expect(s.log).toMatch(/the instructor ended the class/);
    expect(await new Promise((r) => hostProc!.once('exit', r))).toBe(0);
  });
});
