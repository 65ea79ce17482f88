/**
 * A live class with a student who really walks a lab (issue 17): the instructor's
 * `microlab class host` runs on the loopback interface; the student's `microlab class join`
 * (the code piped on its standard input, as a student pastes it) reads the progress file of a
 * MicroLab of its own (its own state directory and project) while the student walks lab 1,
 * monolith-flat, on the real engine: every check fails first and passes after the student's own
 * action (the password read on the jumpbox, psql from it, the answers), with a hint asked for
 * and predictions made. The events go through real TLS to the real host, and the host's
 * dashboard shows exactly what the student's progress file holds: per kind of event, and the
 * lab's figures (steps passed, times, hints, each measure, each claim) as `class report`
 * computes them from that file. Then the instructor ends the class: the student's MicroLab
 * stops by itself and says so, and neither side picks the ended class up again. Needs
 * `npm run build`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { instructorDashboard } from '../class-support';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClassDashboard } from '../../electron/api/class';
import { eventsFromProgress, zeroTotals, type KindTotals } from '../../electron/class/protocol';
import { execIn } from '../../electron/engine/exec';
import { LABEL } from '../../electron/engine/labels';
import { classReport } from '../../electron/labs/class-report';
import { loadLabs } from '../../electron/labs/loader';
import type { ProgressFile } from '../../electron/labs/progress';
import { labsDir } from '../../electron/paths';
import { cli, docker, until } from './support';
import { shopLabForFile } from './shop-support';

const root = path.resolve(import.meta.dirname, '../..');
const cliPath = path.join(root, 'bin/microlab.js');
const project = `microlab-it-class-lab-${randomBytes(2).toString('hex')}`;
const { l, stateDir } = shopLabForFile(project, { labPort: 0 });
const NAME = 'Ada Lab';

let hostProc: ChildProcess | undefined;
let joinProc: ChildProcess | undefined;
let hostOut = '';
let joinOut = '';
let port = 0;
let instructorToken = '';

afterAll(() => {
  joinProc?.kill('SIGKILL');
  hostProc?.kill('SIGKILL');
});

/** The student's progress file: the one the lab runner writes and `class join` reads. */
async function progress(): Promise<ProgressFile> {
  return JSON.parse(
    await readFile(path.join(stateDir, project, 'labs', 'progress.json'), 'utf8'),
  ) as ProgressFile;
}

function dashboard(): Promise<ClassDashboard> {
  return instructorDashboard('127.0.0.1', port, instructorToken);
}

/** The student's own totals, from the progress file: what the dashboard must show. */
async function own(): Promise<KindTotals> {
  const totals = zeroTotals();
  for (const e of eventsFromProgress(await progress())) totals[e.kind]++;
  return totals;
}

/** Waits until the dashboard shows the student on `step` with every event of the progress file. */
async function shown(step: string): Promise<ClassDashboard> {
  let board: ClassDashboard | undefined;
  const want = await own();
  await until(
    `the dashboard to show ${NAME} on ${step} with ${JSON.stringify(want)}`,
    async () => (board = await dashboard()),
    (b) => {
      const s = b.students?.find((x) => x.name === NAME);
      return s?.step === step && JSON.stringify(s.totals) === JSON.stringify(want);
    },
    30_000,
  );
  return board!;
}

async function jumpbox(): Promise<string> {
  const [c] = await docker.listContainers({
    filters: { label: [`${LABEL.project}=${project}`, `${LABEL.workload}=jumpbox`] },
  });
  if (!c) throw new Error(`no jumpbox in ${project}`);
  return c.Id;
}

async function failing(): Promise<string[]> {
  const r = await l.call('labs:check', {});
  return r.results.filter((x) => !x.passed).map((x) => x.message);
}

describe('a student walks lab 1 on the engine in a live class', () => {
  it('the host starts on the loopback interface and the student joins with the piped code', async () => {
    hostProc = spawn(
      process.execPath,
      [cliPath, 'class', 'host', '--interface', 'lo', '--port', '0', '--auto-approve'],
      {
        env: { ...process.env, MICROLAB_STATE_DIR: path.join(stateDir, 'instructor') },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const code = await new Promise<string>((resolve, reject) => {
      hostProc!.stdout!.on('data', (c: Buffer) => {
        hostOut += c.toString();
        const url = /https:\/\/127\.0\.0\.1:(\d+)\/#class=([A-Za-z0-9_-]+)/.exec(hostOut);
        const joinCode = /^(MLC1\.\S+)$/m.exec(hostOut);
        if (url && joinCode) {
          port = Number(url[1]);
          instructorToken = url[2]!;
          resolve(joinCode[1]!);
        }
      });
      hostProc!.stderr!.on('data', () => undefined);
      hostProc!.once('exit', (c) => reject(new Error(`class host exited (${c}): ${hostOut}`)));
    });
    joinProc = spawn(process.execPath, [cliPath, 'class', 'join', '--no-doctor'], {
      env: {
        ...process.env,
        MICROLAB_STATE_DIR: stateDir,
        MICROLAB_PROJECT: project,
        MICROLAB_STUDENT: NAME,
        MICROLAB_CLASS_CODE: '',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    joinProc.stdout!.on('data', (c: Buffer) => (joinOut += c.toString()));
    joinProc.stderr!.on('data', (c: Buffer) => (joinOut += c.toString()));
    joinProc.stdin!.end(`${code}\n`);
    await until(
      `${NAME} to join`,
      () => dashboard(),
      (b) => b.students?.some((s) => s.name === NAME && s.state === 'approved'),
      30_000,
    );
    // Approved on the host's side first; the student says so once the answer is back.
    await until(
      `${NAME}'s MicroLab to say it joined`,
      () => Promise.resolve(joinOut),
      (t) => /joined the class as s1/.test(t),
      10_000,
    );
  });

  it('lab 1: each check fails, then passes after the student acts; the dashboard follows each step', async () => {
    await l.run('labs:start', { lab: 'monolith-flat' });
    await shown('find-the-keys');

    // Step 1: no answer, a wrong one (the image's password), then the one on the jumpbox.
    expect(await failing()).toEqual([expect.stringContaining('no answer to "password" yet')]);
    await l.call('labs:answer', { question: 'password', answer: 'shop' });
    expect((await failing())[0]).toContain('"shop" is not the answer to "password"');
    const pgpass = await execIn(docker, await jumpbox(), ['sh', '-c', 'cat ~/.pgpass']);
    expect(pgpass.exitCode, pgpass.output).toBe(0);
    const line = pgpass.stdout.split('\n').find((x) => x.startsWith('shop-db:'));
    expect(line, pgpass.stdout).toBeDefined();
    await l.call('labs:answer', { question: 'password', answer: line!.split(':').at(-1)!.trim() });
    expect(await failing()).toEqual([]);
    await l.call('labs:next', {});

    // Step 2: a prediction first, then no flow yet, then psql from the jumpbox.
    await l.call('labs:answer', { question: 'domains', answer: 'all 5' });
    expect((await failing()).join('; ')).toMatch(/jumpbox/);
    await shown('reach-the-database');
    const psql = await execIn(docker, await jumpbox(), [
      'psql',
      '-h',
      'shop-db',
      '-U',
      'shop',
      'postgres',
      '-c',
      '\\dn',
    ]);
    expect(psql.exitCode, psql.output).toBe(0);
    expect(psql.stdout).toContain('payments');
    await until('the flow-log check to pass', failing, (f) => Array.isArray(f) && f.length === 0);
    await l.call('labs:next', {});

    // Step 3: a hint, no answer yet, then the count the blast radius gives.
    expect((await l.call('labs:hint', {})).index).toBe(1);
    expect((await failing()).join('; ')).toMatch(/no answer to "reached" yet/);
    await l.call('labs:answer', { question: 'reached', answer: '3' });
    expect(await failing()).toEqual([]);
    await shown('blast-radius');
    await l.call('labs:next', {});

    // Step 4: the compromised code's prediction, a wrong host, then the one in DATABASE_URL.
    await l.call('labs:answer', { question: 'code-domains', answer: 'all 5' });
    await l.call('labs:answer', { question: 'database', answer: 'shop' });
    expect((await failing()).join('; ')).toMatch(/"shop" is not the answer to "database"/);
    await l.call('labs:answer', { question: 'database', answer: 'shop-db' });
    expect(await failing()).toEqual([]);

    const p = await progress();
    const steps = p.labs['monolith-flat']!.steps;
    expect(Object.values(steps).map((s) => s.outcome)).toEqual(['passed', 'passed', 'passed', 'passed']);
    expect(steps['find-the-keys']!.attempts).toBe(3);
    expect(steps['blast-radius']!.hintsShown).toBe(1);
    expect(steps['blast-radius']!.measurements.find((m) => m.id === 'jumpbox-domains')?.value).toBe(5);
  });

  it("the dashboard shows exactly what the student's progress file holds", async () => {
    const board = await shown('compromised-code');
    const want = await own();
    expect(board.totals).toEqual(want);
    expect(want).toMatchObject({ 'step-started': 4, pass: 4, prediction: 2, solve: 0, doctor: 0 });
    expect(want.check).toBeGreaterThanOrEqual(8);
    expect(want.measurement).toBeGreaterThanOrEqual(4);
    const student = board.students.find((s) => s.name === NAME)!;
    expect(student).toMatchObject({
      lab: 'monolith-flat',
      step: 'compromised-code',
      stuck: false,
      totals: want,
    });

    // The lab's figures: what `class report` computes from the student's own progress file.
    const { labs } = await loadLabs(path.join(labsDir(), 'guides'));
    const p = await progress();
    const report = classReport(
      labs.map((x) => x.lab),
      [
        {
          file: 'progress.json',
          fallbackName: NAME,
          data: { ...p, student: { name: NAME, id: student.key } },
        },
      ],
    );
    const live = board.labs.find((x) => x.lab === 'monolith-flat')!;
    expect(live).toEqual(report.labs.find((x) => x.lab === 'monolith-flat'));
    expect(live).toMatchObject({ started: 1, completed: 1 });
    expect(live.steps.map((s) => [s.passed, s.solved])).toEqual([
      [1, 0],
      [1, 0],
      [1, 0],
      [1, 0],
    ]);
    expect(live.steps.find((s) => s.id === 'blast-radius')).toMatchObject({ hints: 1, studentsWithHints: 1 });
    const measured = new Map(
      p.labs['monolith-flat']!.steps['blast-radius']!.measurements.map((m) => [m.id, m.value]),
    );
    expect(live.measures.find((m) => m.id === 'jumpbox-domains')?.spread).toEqual({
      n: 1,
      median: measured.get('jumpbox-domains'),
      min: measured.get('jumpbox-domains'),
      max: measured.get('jumpbox-domains'),
    });
    expect(live.claims.map((c) => [c.supported, c.notSupported])).toEqual([[1, 0]]);
  });

  it('the instructor ends the class: the student stops by itself and says so', async () => {
    const exited = new Promise<number | null>((r) => joinProc!.once('exit', r));
    hostProc!.stdin!.write('end\n');
    expect(await exited).toBe(0);
    expect(joinOut).toMatch(/the instructor ended the class/);
    expect(joinOut).not.toMatch(/MLC1\./);
    expect(await new Promise((r) => hostProc!.once('exit', r))).toBe(0);
    expect(hostOut).toMatch(/The class ended\./);

    // Joined again (no code: the class joined before), the student's MicroLab knows it ended.
    const again = await cli(['class', 'join', '--no-doctor'], {
      MICROLAB_STATE_DIR: stateDir,
      MICROLAB_PROJECT: project,
      MICROLAB_STUDENT: NAME,
      MICROLAB_CLASS_CODE: '',
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/the instructor ended the class/);
    // The instructor's MicroLab does not pick an ended class up: a new one needs its interface.
    const host = await cli(['class', 'host'], { MICROLAB_STATE_DIR: path.join(stateDir, 'instructor') });
    expect(host.code).not.toBe(0);
    expect(host.stderr).toMatch(/no interface named/);
  });
});
