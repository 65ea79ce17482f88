/**
 * The instructor's actions at the command line, over real TLS on the loopback interface and
 * the real engine (issue 17): `microlab class host` takes `release LAB` and
 * `catch-up LAB STEP KEY` at its prompt; a student's `microlab class join` prints both; nothing
 * runs until the student accepts with `microlab class catch-up c1`, which starts the lab at
 * that step as `lab start --step` does; the host then shows the suggestion accepted and the
 * student on that step. The refusals: an unknown lab at the host's prompt, an unknown
 * suggestion at the student's. Needs `npm run build`; its own project and state folders.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { instructorDashboard } from '../class-support';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClassDashboard } from '../../electron/api/class';
import { encodeJoinCode } from '../../electron/class/protocol';
import { cli, repoRoot } from './support';

const project = 'microlab-it-class-catch-up';
const LAB = 'monolith-flat';
const cliPath = path.join(repoRoot, 'bin', 'microlab.js');
const WAIT = { timeout: 60_000, interval: 250 };

let dir: string;
let host: ChildProcess | undefined;
let join: ChildProcess | undefined;
let hostOut = '';
let hostErr = '';
let joinOut = '';
let port = 0;
let instructorToken = '';
let studentEnv: Record<string, string>;

function dashboard(): Promise<ClassDashboard> {
  return instructorDashboard('127.0.0.1', port, instructorToken);
}

function stopped(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mlc-it-catch-up-'));
  host = spawn(
    process.execPath,
    [cliPath, 'class', 'host', '--interface', 'lo', '--port', '0', '--auto-approve'],
    {
      env: { ...process.env, MICROLAB_STATE_DIR: path.join(dir, 'host'), MICROLAB_PROJECT: project },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  host.stderr!.on('data', (c: Buffer) => (hostErr += c.toString()));
  await new Promise<void>((resolve, reject) => {
    host!.stdout!.on('data', (c: Buffer) => {
      hostOut += c.toString();
      const m = /https:\/\/127\.0\.0\.1:(\d+)\/#class=([A-Za-z0-9_-]+)/.exec(hostOut);
      if (m && !port) {
        port = Number(m[1]);
        instructorToken = m[2]!;
        resolve();
      }
    });
    host!.once('exit', (code) => reject(new Error(`class host exited (${code}): ${hostOut}${hostErr}`)));
  });
  const classJson = JSON.parse(
    await readFile(path.join(dir, 'host', project, 'class-host', 'class.json'), 'utf8'),
  ) as { classToken: string; fingerprint: string };
  studentEnv = {
    MICROLAB_STATE_DIR: path.join(dir, 'student'),
    MICROLAB_PROJECT: project,
    MICROLAB_STUDENT: 'Eli Fox',
    MICROLAB_LAB_PORT: '0',
  };
  join = spawn(process.execPath, [cliPath, 'class', 'join', '--no-doctor'], {
    env: {
      ...process.env,
      ...studentEnv,
      MICROLAB_CLASS_CODE: encodeJoinCode({
        host: '127.0.0.1',
        port,
        token: classJson.classToken,
        fingerprint: classJson.fingerprint,
      }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  join.stdout!.on('data', (c: Buffer) => (joinOut += c.toString()));
  join.stderr!.on('data', (c: Buffer) => (joinOut += c.toString()));
}, 60_000);

afterAll(async () => {
  await stopped(join);
  await stopped(host);
  await cli(['down'], { MICROLAB_PROJECT: project, MICROLAB_STATE_DIR: path.join(dir, 'student') });
  if (dir) await rm(dir, { recursive: true, force: true });
}, 120_000);

describe('releasing a lab and catching up at the command line', () => {
  it('prints the release and the suggestion, runs nothing until accepted, then starts the lab at the step', async () => {
    await expect.poll(() => joinOut, WAIT).toContain('joined the class as s1');

    host!.stdin!.write(`release ${LAB}\ncatch-up ${LAB} 2 s1\ncatch-up no-such-lab 1\n`);
    await expect.poll(() => joinOut, WAIT).toContain(`the instructor released the lab ${LAB}`);
    await expect
      .poll(() => joinOut, WAIT)
      .toContain(
        `the instructor suggests catching up to step 2 of ${LAB} (c1): to accept, run \`microlab class catch-up c1\` (it runs \`microlab lab start ${LAB} --step 2\`)`,
      );
    await expect.poll(() => hostErr, WAIT).toContain('no lab "no-such-lab" in this MicroLab');
    let board = await dashboard();
    expect(board.released).toEqual([LAB]);
    expect(board.catchUps).toMatchObject([{ id: 'c1', lab: LAB, step: 2, student: 's1', accepted: [] }]);
    // Shown, not run: the student has started nothing.
    expect(board.students[0]!.lab).toBeUndefined();

    const listed = await cli(['class', 'catch-up'], studentEnv);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`c1  step 2 of ${LAB}  to you  not accepted`);
    const unknown = await cli(['class', 'catch-up', 'c9'], studentEnv);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('the instructor made no catch-up suggestion "c9" to you');

    const accepted = await cli(['class', 'catch-up', 'c1'], studentEnv);
    expect(accepted.stderr).toBe('');
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain(`Accepted c1`);
    const status = JSON.parse((await cli(['lab', 'status', '--json'], studentEnv)).stdout) as {
      lab: string;
      step: number;
      stepId: string;
    };
    expect(status).toMatchObject({ lab: LAB, step: 2 });

    // The running `class join` sends the acceptance and the step started.
    await expect
      .poll(async () => {
        board = await dashboard();
        return [board.catchUps[0]!.accepted.map((a) => a.student), board.students[0]!.step];
      }, WAIT)
      .toEqual([['s1'], status.stepId]);
    expect(board.students[0]!.lab).toBe(LAB);
    const log = await readFile(path.join(dir, 'host', project, 'class-host', 'host.log'), 'utf8');
    expect(log).toContain(`s1 accepted c1: catch up to step 2 of ${LAB}`);
    expect(log).not.toContain(instructorToken);
  }, 300_000);
});
