/**
 * The app's own class client (issue 17): joins a live class from the first screen, with the
 * same ClassClient and the same state folder (`class-join/`: the outbox, the acceptances) as
 * `microlab class join`, so either picks up what the other left. It runs in the main process
 * while the app runs; every change is pushed to the UI as `class:update`. The join code is
 * never logged or echoed: the status carries the host's address, never its token.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { ClassJoinStatus } from '../api/class';
import type { MethodInput, MethodName, MethodOutput } from '../api/contract';
import type { Handlers } from '../api/dispatch';
import type { EventBus } from '../api/events';
import { ClassClient } from '../class/client';
import { decodeJoinCode } from '../class/protocol';
import { ApiError } from '../errors';
import type { TaskInfo } from '../tasks';
import { classJoinDir, labsProgressFile } from './class-seed';

type Call = <M extends MethodName>(method: M, input: MethodInput<M>) => Promise<MethodOutput<M>>;

export interface ClassServiceOptions {
  project: string;
  /** The other services, through the dispatcher (student:get, engine:doctor, labs:start). */
  call: Call;
  events: EventBus;
  /** A task's end (the task manager's wait): a catch-up is accepted once its lab started. */
  wait: (id: string) => Promise<TaskInfo>;
  /** How often the client reads the progress and asks the host, ms (default 1000). */
  intervalMs?: number;
}

type ClassMethod = 'class:join' | 'class:status' | 'class:leave' | 'class:accept';

export interface ClassService {
  handlers: Pick<Handlers, ClassMethod>;
  /** Stops the client (the app quits): what is not sent waits in the outbox. */
  stop(): Promise<void>;
}

export function createClassService(o: ClassServiceOptions): ClassService {
  const dir = classJoinDir(o.project);
  let client: ClassClient | undefined;
  let loop: { abort: AbortController; done: Promise<void> } | undefined;
  let problem: string | undefined;

  const status = (): ClassJoinStatus => {
    if (!client) return { joined: false, saved: existsSync(path.join(dir, 'join.json')) };
    return { joined: true, ...client.status(), running: Boolean(loop), ...(problem ? { problem } : {}) };
  };
  const push = () => o.events.emit('class:update', status());

  const stop = async () => {
    const running = loop;
    loop = undefined;
    running?.abort.abort();
    await running?.done;
  };

  /** Joins (waiting for approval), then syncs until the class ends, stop() or a refusal. */
  const run = (c: ClassClient) => {
    const abort = new AbortController();
    const done = (async () => {
      let release: (() => Promise<void>) | undefined;
      try {
        release = await c.hold();
        await c.join(abort.signal);
        problem = undefined;
        push();
        await c.run(abort.signal);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'canceled'))
          problem = err instanceof Error ? err.message : String(err);
      } finally {
        await release?.().catch(() => undefined);
        if (loop?.abort === abort) loop = undefined;
        push();
      }
    })();
    loop = { abort, done };
  };

  const handlers: Pick<Handlers, ClassMethod> = {
    'class:join': async ({ code }) => {
      const info = await o.call('student:get', {});
      if (!info.student)
        throw new ApiError(
          'class-no-name',
          'no student name is set: the instructor would not know who joins',
          'Save your name first (the "You" card).',
        );
      const decoded = code === undefined ? undefined : decodeJoinCode(code);
      await stop();
      const c = new ClassClient({
        dir,
        progressFile: labsProgressFile(o.project),
        student: info.student,
        doctor: async () => {
          const report = await o.call('engine:doctor', {});
          return {
            ready: report.ok,
            failing: report.checks.filter((x) => x.status === 'fail').map((x) => x.id),
          };
        },
        // Each round may change what the UI shows (approval, messages, suggestions, the outbox).
        onNotice: () => push(),
        onRound: () => push(),
        ...(o.intervalMs !== undefined ? { intervalMs: o.intervalMs } : {}),
      });
      await c.load(decoded);
      client = c;
      problem = undefined;
      run(c);
      push();
      return status();
    },
    'class:status': async () => status(),
    'class:leave': async () => {
      await stop();
      client = undefined;
      problem = undefined;
      await rm(dir, { recursive: true, force: true });
      push();
      return status();
    },
    'class:accept': async ({ catchUp }) => {
      if (!client)
        throw new ApiError('class-not-joined', 'this MicroLab has joined no class', 'Join one first.');
      const joined = client;
      const chosen = joined.suggestion(catchUp);
      const task = await o.call('labs:start', { lab: chosen.lab, step: chosen.step });
      // The class learns the acceptance once the lab stands at the step: a start that failed
      // (a port taken, the engine gone) is no catch-up.
      void o
        .wait(task.id)
        .then(async (done) => {
          if (done.state === 'succeeded') await joined.accept(chosen.id);
        })
        .catch((err: unknown) => {
          problem = `the catch-up ${chosen.id} was not recorded: ${err instanceof Error ? err.message : String(err)}`;
        })
        .finally(push);
      return task;
    },
  };

  return { handlers, stop };
}
