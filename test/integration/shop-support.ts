/**
 * For the shop's integration tests: MicroLab's services in a project of the test's own, a
 * way to call a method and wait for its task, and a small client of the shop's public API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type {
  CheckReport,
  LoadReport,
  Measurement,
  LoadUpdate,
  MethodInput,
  MethodName,
  MethodOutput,
} from '../../electron/api/contract';
import { localApi } from '../../electron/api/local';
import type { Services } from '../../electron/services';
import { createServices } from '../../electron/services';

export interface Lab {
  services: Services;
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>>;
  /** Calls a method that starts a task and waits for the task to succeed; returns its result line. */
  run<M extends MethodName>(method: M, input: MethodInput<M>): Promise<string>;
}

export function lab(project: string): Lab {
  const services = createServices({ project });
  const api = localApi(services);
  return {
    services,
    call: api.call,
    run: async (method, input) => (await api.run(method, input)).result ?? '',
  };
}

/** Provides the images (builds the shop image when its source changed). */
export async function prepare(l: Lab): Promise<void> {
  await l.run('images:prepare', {});
}

/**
 * The setup every test file on the shop shares, registered as its beforeAll and afterAll: a
 * state directory of its own (MICROLAB_STATE_DIR, so progress and workspaces never mix with
 * another file's), MicroLab's services in `project`, nothing of the project before or after,
 * the images provided, and the firewall's watcher running as the app runs it.
 * `labPort: 0` makes a lab's `up` publish the storefront on a free port (MICROLAB_LAB_PORT).
 */
export function shopLabForFile(
  project: string,
  { labPort }: { labPort?: number } = {},
): {
  l: Lab;
  stateDir: string;
  /** Stops and starts the watcher, for a test of what happens with no app watching. */
  watcher: { stop(): void; start(): Promise<void> };
} {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), `${project}-`));
  process.env.MICROLAB_STATE_DIR = stateDir;
  if (labPort !== undefined) process.env.MICROLAB_LAB_PORT = String(labPort);
  const l = lab(project);
  let stopWatch: (() => void) | undefined;
  beforeAll(async () => {
    await l.call('resources:down', {});
    await prepare(l);
    stopWatch = await l.services.firewall.watch();
  });
  afterAll(async () => {
    stopWatch?.();
    l.services.firewall.close();
    await l.call('resources:down', {});
    rmSync(stateDir, { recursive: true, force: true });
  });
  const watcher = {
    stop() {
      stopWatch?.();
      stopWatch = undefined;
    },
    async start() {
      stopWatch ??= await l.services.firewall.watch();
    },
  };
  return { l, stateDir, watcher };
}

export interface Reply {
  status: number;
  body: unknown;
}

/** A client of the storefront's public API. */
export function shopClient(baseUrl: string) {
  return async (
    method: string,
    path: string,
    options: { token?: string; body?: unknown; raw?: string } = {},
  ): Promise<Reply> => {
    const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const res = await fetch(new URL(path, baseUrl), {
      method,
      headers: {
        ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      body: payload,
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body };
  };
}

/** The storefront's address, from the deployment's status. */
export async function storefront(l: Lab): Promise<string> {
  const status = await l.call('deploy:status', {});
  if (!status.storefront) throw new Error(`no storefront: ${JSON.stringify(status)}`);
  return status.storefront;
}

/**
 * Starts a load through the API and resolves once it runs (its first figures arrived).
 * `done()` waits for its end and returns its report; it throws when the load did not succeed.
 */
export async function startLoad(
  l: Lab,
  input: MethodInput<'load:run'>,
): Promise<{ taskId: string; done(): Promise<LoadReport> }> {
  const task = await l.call('load:run', input);
  await new Promise<void>((resolve) => {
    const dispose = l.services.events.on('load:update', (update: LoadUpdate) => {
      if (update.taskId !== task.id) return;
      dispose();
      resolve();
    });
  });
  return {
    taskId: task.id,
    done: async () => {
      const final = await l.services.tasks.wait(task.id);
      if (final.state !== 'succeeded') throw new Error(`load ${final.state}: ${final.error?.message}`);
      return l.call('load:report', { taskId: task.id });
    },
  };
}

/**
 * Walks the active lab from its current step to its last, as a student who predicts, acts and
 * explains: for each step, a step that asks for predictions fails its check until they are
 * recorded (and refuses a why answer); with the predictions recorded, its checks still fail
 * before the student acts; "Show me" makes them pass, and the step records every measure; the
 * why questions are answered then. Returns every measurement by id.
 */
export async function walkLab(l: Lab): Promise<Map<string, Measurement>> {
  const measured = new Map<string, Measurement>();
  const failing = (r: CheckReport) => r.results.filter((x) => !x.passed).map((x) => x.message);
  for (;;) {
    const status = await l.call('labs:status', {});
    const step = (await l.call('labs:get', { lab: status.lab! })).steps[status.step! - 1]!;
    if (step.predict.length) {
      const unpredicted = await l.call('labs:check', {});
      expect(unpredicted.results.find((r) => r.kind === 'predict')?.message, step.id).toMatch(
        /predict first/,
      );
      for (const q of step.predict)
        await l.call('labs:answer', { question: q.id, answer: q.choices?.[0] ?? 'a guess' });
    }
    for (const q of step.explain)
      await expect(l.call('labs:answer', { question: q.id, answer: 'too early' })).rejects.toThrow(
        /asks why about what step/,
      );
    const before = await l.call('labs:check', {});
    expect(before.passed, `step ${step.id} passed before the student acted`).toBe(false);
    expect(
      before.results.some((r) => r.kind === 'predict'),
      step.id,
    ).toBe(false);
    await l.run('labs:solve', {});
    const after = await l.call('labs:check', {});
    expect(failing(after), `step ${step.id}`).toEqual([]);
    expect(after.notRecorded, `step ${step.id}`).toEqual([]);
    for (const m of after.measurements) measured.set(m.id, m);
    for (const q of step.explain)
      await l.call('labs:answer', { question: q.id, answer: `because of step ${step.id}` });
    if (status.step === status.steps) return measured;
    await l.call('labs:next', {});
  }
}

/**
 * As a student, at the active lab's current step: a step that asks for predictions fails its
 * check until they are recorded (the first choice each time); then they are recorded. Returns
 * the step's why questions.
 */
export async function predictStep(l: Lab, lab: string): Promise<{ id: string }[]> {
  const status = await l.call('labs:status', {});
  const step = (await l.call('labs:get', { lab })).steps[status.step! - 1]!;
  if (step.predict.length) {
    const report = await l.call('labs:check', {});
    expect(report.results.filter((x) => !x.passed).map((x) => x.message)[0], step.id).toMatch(
      /^predict first/,
    );
    for (const q of step.predict)
      await l.call('labs:answer', { question: q.id, answer: q.choices?.[0] ?? 'a guess' });
  }
  return step.explain;
}

/** Answers the why questions of a step that passed. */
export async function explainStep(l: Lab, questions: { id: string }[]): Promise<void> {
  for (const q of questions)
    await l.call('labs:answer', { question: q.id, answer: 'because of what I measured' });
}
