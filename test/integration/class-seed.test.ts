/**
 * Per-student values seeded by a live class, on the real engine: a student joins a real class
 * host (TLS on 127.0.0.1) and is handed a seed; lab 1 started while in the class deploys the
 * monolith with the password derived from that seed (the containers' label, the jumpbox's
 * ~/.pgpass); the password a neighbour passes around is refused, and the progress and the
 * class's dashboard say which check failed how (the answer itself never leaves the laptop); the instructor's per-student key
 * (`class:guide` on the host's MicroLab) gives this student's password, and it is accepted.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClassClient } from '../../electron/class/client';
import { ClassHost } from '../../electron/class/host';
import { decodeJoinCode } from '../../electron/class/protocol';
import { studentSeed } from '../../electron/class/seed';
import { ClassStore } from '../../electron/class/store';
import { execIn } from '../../electron/engine/exec';
import { ProgressStore } from '../../electron/labs/progress';
import { classHostDir, classJoinDir } from '../../electron/services/class-seed';
import { derivePassword, SECRET_LABEL } from '../../electron/topology/secret';
import { shopLabForFile } from './shop-support';
import { docker } from './support';

const project = 'microlab-it-class-seed';
const { l, stateDir } = shopLabForFile(project, { labPort: 0 });
const progressFile = path.join(stateDir, project, 'labs', 'progress.json');
let host: ClassHost | undefined;

afterAll(async () => {
  await host?.stop();
});

describe('a student in a live class', () => {
  it("deploys with the class's seeded password, which the instructor's key names and the quiz accepts", async () => {
    // The instructor's class and the student's MicroLab (one machine here: one state directory).
    const store = new ClassStore(classHostDir(project));
    await store.create('lo', '127.0.0.1', 0, true);
    host = new ClassHost({ store, labs: [] });
    await host.start();
    const client = new ClassClient({
      dir: classJoinDir(project),
      progressFile,
      student: { name: 'Ana Lima' },
      intervalMs: 100,
    });
    await client.load(decodeJoinCode(host.joinCode()));
    await client.join();
    expect(client.seed).toBe(store.seedOf('s1'));
    const password = derivePassword(client.seed!, 'monolith');

    await l.run('labs:start', { lab: 'monolith-flat' });
    const status = await l.call('deploy:status', {});
    expect(status.deployment).toBe('monolith');
    const jumpbox = status.workloads.find((w) => w.workload === 'jumpbox')!.container;
    const db = status.workloads.find((w) => w.workload === 'shop-db')!.container;
    for (const c of [jumpbox, db])
      expect((await docker.getContainer(c).inspect()).Config.Labels[SECRET_LABEL]).toBe(password);
    const pgpass = await execIn(docker, jumpbox, ['sh', '-c', 'cat "$HOME/.pgpass"'], { timeoutMs: 60_000 });
    expect(pgpass.stdout).toContain(`shop-db:5432:*:shop:${password}`);

    // A neighbour's answer is refused; the progress and the dashboard say which check failed how.
    const neighbours = derivePassword(studentSeed(store.data.seedSecret!, 's2'), 'monolith');
    await l.call('labs:answer', { question: 'password', answer: neighbours });
    expect((await l.call('labs:check', {})).passed).toBe(false);
    const step = (await new ProgressStore(progressFile, 'me').read()).labs['monolith-flat']!.steps[
      'find-the-keys'
    ]!;
    expect(step.failures).toEqual([
      {
        attempt: 1,
        check: 'quiz-1',
        description: expect.stringContaining('password') as string,
        message: '"(your answer)" is not the answer to "password"',
      },
    ]);
    await client.sync();
    expect(JSON.stringify(host.store.ledger.events('s1'))).not.toContain(neighbours);
    expect(host.dashboard().students[0]).toMatchObject({
      lab: 'monolith-flat',
      step: 'find-the-keys',
      failing: { check: 'quiz-1', message: '"(your answer)" is not the answer to "password"', streak: 1 },
    });

    // The instructor's key on the host's MicroLab names this student's password; it passes.
    const { markdown } = await l.call('class:guide', {});
    expect(markdown.split('\n')).toContain(`| s1 | Ana Lima |  | \`${password}\` |`);
    await l.call('labs:answer', { question: 'password', answer: password });
    expect((await l.call('labs:check', {})).passed).toBe(true);
    await client.sync();
    expect(host.dashboard().students[0]!.failing).toBeUndefined();
  });
});
