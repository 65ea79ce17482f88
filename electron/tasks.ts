/**
 * Long work is a task: it reports progress (steps, bytes), can be canceled through an
 * AbortSignal, and ends succeeded (with a one-line result), failed (with the error) or
 * canceled. Every change is published as a `tasks:update` event.
 */
import { randomUUID } from 'node:crypto';
import type { ApiErrorShape } from './errors';
import { ApiError, toErrorShape } from './errors';

export type TaskState = 'running' | 'succeeded' | 'failed' | 'canceled';

export interface TaskProgress {
  /** 1-based index of the current step, and how many steps there are. */
  step: number;
  steps: number;
  message: string;
  bytes?: number;
  totalBytes?: number;
}

export interface TaskInfo {
  id: string;
  kind: string;
  title: string;
  state: TaskState;
  progress: TaskProgress;
  startedAt: string;
  endedAt?: string;
  error?: ApiErrorShape;
  /** A short human summary of the outcome, e.g. "bootstrapped offline with debootstrap". */
  result?: string;
}

/**
 * Where a task's changes go: the API's event bus fits (its `tasks:update` stream); the floor
 * only needs this one method of it.
 */
export interface TaskUpdates {
  emit(event: 'tasks:update', task: TaskInfo): void;
}

export interface TaskContext {
  signal: AbortSignal;
  /** Merge into the current progress and publish it (bytes updates are throttled). */
  progress(update: Partial<TaskProgress>): void;
}

const KEEP_FINISHED = 50;
const BYTES_EVERY_MS = 100;

export class TaskManager {
  private readonly tasks = new Map<
    string,
    { info: TaskInfo; controller: AbortController; done: Promise<TaskInfo> }
  >();

  constructor(private readonly events: TaskUpdates) {}

  /** Starts `work` as a task and returns it at once, running. */
  start(kind: string, title: string, steps: number, work: (ctx: TaskContext) => Promise<string>): TaskInfo {
    const controller = new AbortController();
    const info: TaskInfo = {
      id: randomUUID(),
      kind,
      title,
      state: 'running',
      progress: { step: 0, steps, message: 'starting' },
      startedAt: new Date().toISOString(),
    };
    let lastBytesPublish = 0;
    const publish = () => this.events.emit('tasks:update', structuredClone(info));
    const ctx: TaskContext = {
      signal: controller.signal,
      progress: (update) => {
        if (info.state !== 'running') return;
        const onlyBytes = update.step === undefined && update.message === undefined;
        info.progress = { ...info.progress, ...update };
        const now = Date.now();
        if (onlyBytes && now - lastBytesPublish < BYTES_EVERY_MS) return;
        lastBytesPublish = now;
        publish();
      },
    };
    const finish = (patch: Partial<TaskInfo>) => {
      Object.assign(info, patch, { endedAt: new Date().toISOString() });
      publish();
      this.prune();
      return structuredClone(info);
    };
    const done = Promise.resolve()
      .then(() => work(ctx))
      .then(
        (result) => finish({ state: 'succeeded', result }),
        (err: unknown) =>
          controller.signal.aborted
            ? finish({ state: 'canceled', error: { code: 'canceled', message: 'canceled by the user' } })
            : finish({ state: 'failed', error: toErrorShape(err) }),
      );
    this.tasks.set(info.id, { info, controller, done });
    publish();
    return structuredClone(info);
  }

  list(): TaskInfo[] {
    return [...this.tasks.values()].map((t) => structuredClone(t.info));
  }

  get(id: string): TaskInfo {
    return structuredClone(this.entry(id).info);
  }

  /** Resolves with the task's final state. */
  wait(id: string): Promise<TaskInfo> {
    return this.entry(id).done;
  }

  cancel(id: string): TaskInfo {
    const task = this.entry(id);
    if (task.info.state === 'running') task.controller.abort();
    return structuredClone(task.info);
  }

  private entry(id: string) {
    const task = this.tasks.get(id);
    if (!task) throw new ApiError('unknown-task', `no task with id ${id}`);
    return task;
  }

  private prune(): void {
    const finished = [...this.tasks.values()].filter((t) => t.info.state !== 'running');
    for (const task of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED)))
      this.tasks.delete(task.info.id);
  }
}

/** Throws the AbortError a canceled step should end with. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) {
    const err = new Error('canceled');
    err.name = 'AbortError';
    throw err;
  }
}
