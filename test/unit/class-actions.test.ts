/**
 * The instructor's actions over TLS on 127.0.0.1 (issue 17): labs released one at a time (kept
 * across a restart of the host), "catch up to step N" suggested to a student or to the room,
 * seen by the right students only and accepted by the student's own act; the refusals (a
 * student cannot release or suggest, an unknown lab, step, student or suggestion is refused
 * with its name, a forged acceptance leaves the whole batch untaken); and the app's class
 * client (services/class.ts) over the same host, never showing the join code.
 */
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { classScratch } from '../class-scratch';
import type { ClassJoinStatus } from '../../electron/api/class';
import type { MethodInput, MethodName, MethodOutput, TaskInfo } from '../../electron/api/contract';
import { EventBus } from '../../electron/api/events';
import { ClassClient } from '../../electron/class/client';
import { ClassHost } from '../../electron/class/host';
import { checkLabStep, decodeJoinCode, type JoinCode } from '../../electron/class/protocol';
import { ClassStore } from '../../electron/class/store';
import type { Lab } from '../../electron/labs/format';
import { loadLabs } from '../../electron/labs/loader';
import { ProgressStore, stepProgress } from '../../electron/labs/progress';
import { createClassService } from '../../electron/services/class';

const GUIDES = path.resolve(import.meta.dirname, '..', '..', 'labs', 'guides');
const { hosts, tmp } = classScratch('mlc-actions-');
let labs: Lab[];

beforeAll(async () => {
  labs = (await loadLabs(GUIDES)).labs.map((l) => l.lab);
});

async function startHost(dir: string, port = 0): Promise<ClassHost> {
  const store = new ClassStore(dir);
  if (!(await store.open())) await store.create('lo', '127.0.0.1', port, true);
  const host = new ClassHost({ store, labs });
  await host.start();
  hosts.push(host);
  return host;
}

async function student(name: string, code: JoinCode) {
  const dir = await tmp();
  const progress = new ProgressStore(path.join(dir, 'progress.json'), 'student');
  const notices: string[] = [];
  const client = new ClassClient({
    dir: path.join(dir, 'class'),
    progressFile: progress.file,
    student: { name },
    intervalMs: 50,
    onNotice: (line) => notices.push(line),
  });
  await client.load(code);
  await client.join();
  return { progress, client, notices, dir };
}

/** A raw HTTPS POST to the host (certificate not checked: this is the test's own host). */
function rawPost(
  code: JoinCode,
  route: string,
  token: string,
  body: unknown,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: code.host,
        port: code.port,
        method: 'POST',
        path: route,
        headers: {
          host: `127.0.0.1:${code.port}`,
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
        },
        rejectUnauthorized: false,
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('checkLabStep', () => {
  it('takes a lab and each of its steps, and names what is not there', () => {
    const steps = labs.find((l) => l.id === 'monolith-flat')!.steps.length;
    expect(() => checkLabStep(labs, 'monolith-flat', steps)).not.toThrow();
    expect(() => checkLabStep(labs, 'no-such-lab')).toThrow(/no lab "no-such-lab"/);
    expect(() => checkLabStep(labs, 'monolith-flat', steps + 1)).toThrow(
      new RegExp(`lab monolith-flat has no step ${steps + 1}: its steps are 1 to ${steps}`),
    );
    expect(() => checkLabStep(labs, 'monolith-flat', 0)).toThrow(/no step 0/);
  });
});

describe('releasing labs', () => {
  it('releases labs one at a time, keeps them across a restart, and students learn them in their next answer', async () => {
    const hostDir = await tmp();
    let host = await startHost(hostDir);
    const code = decodeJoinCode(host.joinCode());
    const ana = await student('Ana Lima', code);
    await ana.client.sync();
    expect(ana.client.status().released).toEqual([]);

    expect(await host.release('monolith-flat')).toEqual(['monolith-flat']);
    expect(await host.release('monolith-flat')).toEqual(['monolith-flat']);
    await ana.client.sync();
    expect(ana.client.status().released).toEqual(['monolith-flat']);
    expect(ana.notices).toContain('the instructor released the lab monolith-flat');

    // Through the route, as the dashboard does it.
    const instructor = host.store.data.instructorToken;
    const answer = await rawPost(code, '/class/v1/release', instructor, { lab: 'monolith-segmented' });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ released: ['monolith-flat', 'monolith-segmented'] });

    // A restarted host keeps them.
    const port = host.store.data.class.port;
    await host.stop();
    hosts.splice(0);
    host = await startHost(hostDir, port);
    expect(host.dashboard().released).toEqual(['monolith-flat', 'monolith-segmented']);
    await ana.client.sync();
    expect(ana.client.status().released).toEqual(['monolith-flat', 'monolith-segmented']);
  });

  it('refuses a student releasing or suggesting, and an unknown lab by its name', async () => {
    const host = await startHost(await tmp());
    const code = decodeJoinCode(host.joinCode());
    const ana = await student('Ana Lima', code);
    await ana.client.sync();
    // The student's own token (kept in the client's state) is not the instructor's.
    const token = (
      JSON.parse(await readFile(path.join(ana.dir, 'class', 'join.json'), 'utf8')) as { token: string }
    ).token;
    for (const [route, body] of [
      ['/class/v1/release', { lab: 'monolith-flat' }],
      ['/class/v1/catch-up', { lab: 'monolith-flat', step: 2 }],
    ] as const) {
      const answer = await rawPost(code, route, token, body);
      expect(answer.status).toBe(401);
      expect(answer.text).toContain('a wrong instructor token');
    }
    expect(host.dashboard().released).toEqual([]);
    expect(host.dashboard().catchUps).toEqual([]);

    const instructor = host.store.data.instructorToken;
    const unknown = await rawPost(code, '/class/v1/release', instructor, { lab: 'no-such-lab' });
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('no lab \\"no-such-lab\\"');
    await expect(host.release('no-such-lab')).rejects.toMatchObject({ code: 'class-unknown-lab' });
    const log = await readFile(path.join(host.store.dir, 'host.log'), 'utf8');
    expect(log).toContain('/class/v1/release: 401');
    expect(log).not.toContain(token);
  });
});

describe('catching up', () => {
  it('suggests a step to one student or the room, shows each its own, and records who accepted', async () => {
    const host = await startHost(await tmp());
    const code = decodeJoinCode(host.joinCode());
    const ana = await student('Ana Lima', code);
    const bo = await student('Bo Chen', code);
    await ana.client.sync();
    await bo.client.sync();

    const toAna = await host.suggest('monolith-flat', 3, 's1');
    const toRoom = await host.suggest('monolith-segmented', 2);
    expect(toAna).toMatchObject({ id: 'c1', lab: 'monolith-flat', step: 3, student: 's1' });
    expect(toRoom).toMatchObject({ id: 'c2', lab: 'monolith-segmented', step: 2 });
    await ana.client.sync();
    await bo.client.sync();
    expect(ana.client.status().catchUps.map((c) => c.id)).toEqual(['c1', 'c2']);
    expect(bo.client.status().catchUps.map((c) => c.id)).toEqual(['c2']);
    expect(ana.notices.some((n) => n.includes('microlab class catch-up c1'))).toBe(true);

    // Never automatic: shown, not accepted, until the student accepts.
    await ana.client.sync();
    expect(host.dashboard().catchUps.every((c) => c.accepted.length === 0)).toBe(true);
    await expect(bo.client.accept('c1')).rejects.toMatchObject({ code: 'class-no-catch-up' });
    const chosen = await ana.client.accept('c1');
    expect(chosen).toMatchObject({ lab: 'monolith-flat', step: 3 });

    // The acceptance goes with the next batch, with the step the student then started.
    await ana.progress.update((p) => {
      stepProgress(p, 'monolith-flat', labs.find((l) => l.id === 'monolith-flat')!.steps[2]!.id).startedAt =
        new Date().toISOString();
    });
    await ana.client.sync();
    const board = host.dashboard();
    expect(board.catchUps[0]!.accepted.map((a) => a.student)).toEqual(['s1']);
    expect(board.catchUps[1]!.accepted).toEqual([]);
    expect(board.students.find((s) => s.key === 's1')).toMatchObject({
      lab: 'monolith-flat',
      step: labs.find((l) => l.id === 'monolith-flat')!.steps[2]!.id,
    });
    expect(ana.client.status().catchUps[0]!.accepted).toBeDefined();
    // Accepted once: a second round sends it no more, the host records it once.
    await ana.client.sync();
    expect(host.dashboard().catchUps[0]!.accepted).toHaveLength(1);
  });

  it('refuses an unknown lab, step or student by name, and a forged acceptance with the whole batch', async () => {
    const host = await startHost(await tmp());
    const code = decodeJoinCode(host.joinCode());
    const ana = await student('Ana Lima', code);
    await ana.client.sync();
    await expect(host.suggest('no-such-lab', 1)).rejects.toThrow(/no lab "no-such-lab"/);
    await expect(host.suggest('monolith-flat', 99)).rejects.toThrow(/lab monolith-flat has no step 99/);
    await expect(host.suggest('monolith-flat', 1, 's9')).rejects.toMatchObject({ code: 'class-no-student' });
    const instructor = host.store.data.instructorToken;
    const bad = await rawPost(code, '/class/v1/catch-up', instructor, { lab: 'monolith-flat', step: 99 });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('lab monolith-flat has no step 99');
    expect(host.dashboard().catchUps).toEqual([]);

    // Bo's suggestion, accepted by Ana: refused, and Ana's events in that batch are not taken.
    const bo = await student('Bo Chen', code);
    await host.suggest('monolith-flat', 2, 's2');
    const token = (
      JSON.parse(await readFile(path.join(ana.dir, 'class', 'join.json'), 'utf8')) as { token: string }
    ).token;
    const before = host.dashboard().totals.hint;
    const forged = await rawPost(code, '/class/v1/events', token, {
      events: [
        {
          id: 'hint/monolith-flat/deploy/1',
          kind: 'hint',
          at: new Date().toISOString(),
          lab: 'monolith-flat',
          step: 'deploy',
          hint: 1,
        },
      ],
      accepted: [{ id: 'c1', at: new Date().toISOString() }],
    });
    expect(forged.status).toBe(400);
    expect(forged.text).toContain('no catch-up suggestion c1 for s1');
    expect(host.dashboard().totals.hint).toBe(before);
    expect(host.dashboard().catchUps[0]!.accepted).toEqual([]);
    void bo;
  });
});

describe("the app's class client", () => {
  it('joins from a code, pushes its status without the code, shows a suggestion, and accepting starts the lab at that step', async () => {
    const host = await startHost(await tmp());
    const joinCode = host.joinCode();
    const state = await tmp();
    const previous = process.env.MICROLAB_STATE_DIR;
    process.env.MICROLAB_STATE_DIR = state;
    const started: MethodInput<'labs:start'>[] = [];
    const call = (async <M extends MethodName>(
      method: M,
      input: MethodInput<M>,
    ): Promise<MethodOutput<M>> => {
      // The other services, as the dispatcher would answer them.
      if (method === 'student:get')
        return { student: { name: 'Cy Diaz' }, source: 'file' } as MethodOutput<M>;
      if (method === 'engine:doctor') return { ok: true, checks: [] } as unknown as MethodOutput<M>;
      if (method === 'labs:start') {
        started.push(input as MethodInput<'labs:start'>);
        return {
          id: `t${started.length}`,
          kind: 'labs:start',
          state: 'running',
        } as unknown as MethodOutput<M>;
      }
      throw new Error(`unexpected ${method}`);
    }) as Parameters<typeof createClassService>[0]['call'];
    const events = new EventBus();
    const pushed: ClassJoinStatus[] = [];
    events.on('class:update', (s) => pushed.push(s));
    // The first start fails (a port taken, say), the second succeeds.
    const ended: Promise<TaskInfo>[] = [];
    const wait = (id: string): Promise<TaskInfo> => {
      const done = Promise.resolve({
        id,
        kind: 'labs:start',
        state: id === 't1' ? 'failed' : 'succeeded',
      } as unknown as TaskInfo);
      ended.push(done);
      return done;
    };
    const service = createClassService({ project: 'unit', call, events, wait, intervalMs: 50 });
    try {
      expect(await service.handlers['class:status']({}, undefined as never)).toEqual({
        joined: false,
        saved: false,
      });
      await expect(
        service.handlers['class:join']({ code: 'MLC1.nonsense' }, undefined as never),
      ).rejects.toMatchObject({
        code: 'bad-join-code',
      });
      const first = await service.handlers['class:join']({ code: joinCode }, undefined as never);
      expect(first).toMatchObject({ joined: true, phase: 'pending', host: '127.0.0.1' });
      await expect
        .poll(async () => (await service.handlers['class:status']({}, undefined as never)) as ClassJoinStatus)
        .toMatchObject({
          joined: true,
          phase: 'joined',
          student: 's1',
        });
      await host.suggest('monolith-flat', 2);
      await host.message('Catch up, everyone');
      await expect
        .poll(async () => {
          const s = await service.handlers['class:status']({}, undefined as never);
          return s.joined ? [s.catchUps.length, s.messages.length] : [];
        })
        .toEqual([1, 1]);
      // A start that failed is no catch-up: the class is not told it was accepted.
      const failed: TaskInfo = await service.handlers['class:accept']({ catchUp: 'c1' }, undefined as never);
      expect(failed.kind).toBe('labs:start');
      await Promise.all(ended);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(host.dashboard().catchUps[0]!.accepted).toEqual([]);
      const task: TaskInfo = await service.handlers['class:accept']({ catchUp: 'c1' }, undefined as never);
      expect(task.kind).toBe('labs:start');
      expect(started).toEqual([
        { lab: 'monolith-flat', step: 2 },
        { lab: 'monolith-flat', step: 2 },
      ]);
      await expect.poll(() => host.dashboard().catchUps[0]!.accepted.map((a) => a.student)).toEqual(['s1']);
      await expect(
        service.handlers['class:accept']({ catchUp: 'c7' }, undefined as never),
      ).rejects.toMatchObject({
        code: 'class-no-catch-up',
      });

      // Nothing pushed to the UI carries the join code or the class token.
      const token = decodeJoinCode(joinCode).token;
      expect(pushed.length).toBeGreaterThan(0);
      expect(JSON.stringify(pushed)).not.toContain(token);

      const left = await service.handlers['class:leave']({}, undefined as never);
      expect(left).toEqual({ joined: false, saved: false });
    } finally {
      await service.stop();
      if (previous === undefined) delete process.env.MICROLAB_STATE_DIR;
      else process.env.MICROLAB_STATE_DIR = previous;
    }
  });
});
