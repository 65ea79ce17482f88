/**
 * What the CLI's handlers run with: the services and the API over them, the output streams, and
 * a task's progress shown until it ends.
 */
import type { TaskInfo } from '../api/contract';
import { localApi } from '../api/local';
import { formatBytes } from '../engine/doctor';
import type { Services } from '../services';
import { createServices } from '../services';
import type { Runtime } from './program';

/** Creates the services (no engine is reached until a command calls the API). */
export function createRuntime(out: NodeJS.WriteStream, err: NodeJS.WriteStream): Runtime {
  const services = createServices();
  const api = localApi(services);
  return {
    services,
    api,
    call: api.call,
    out,
    err,
    follow: (start) => followTask(services, start, out, err),
  };
}

function progressLine(task: TaskInfo, width: number): string {
  const { step, steps, message, bytes, totalBytes } = task.progress;
  const fraction =
    totalBytes && bytes !== undefined
      ? Math.min(1, bytes / totalBytes)
      : steps
        ? Math.max(0, step - 1) / steps
        : 0;
  const barWidth = 24;
  const filled = Math.round(fraction * barWidth);
  const amount =
    bytes !== undefined ? ` ${formatBytes(bytes)}${totalBytes ? `/${formatBytes(totalBytes)}` : ''}` : '';
  const line = `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${step}/${steps}${amount} ${message}`;
  return line.length > width ? line.slice(0, width - 1) + '…' : line;
}

/** Starts a task and shows its progress until it ends; Ctrl-C cancels it. */
async function followTask(
  services: Services,
  start: () => Promise<TaskInfo>,
  out: NodeJS.WriteStream,
  err: NodeJS.WriteStream,
): Promise<number> {
  const tty = Boolean(out.isTTY);
  let lastMessage = '';
  let taskId: string | undefined = undefined; // known once the task has started
  const early: TaskInfo[] = [];
  const show = (update: TaskInfo) => {
    if (update.state !== 'running') return;
    if (tty) out.write(`\r\x1b[K${progressLine(update, out.columns ?? 80)}`);
    else if (update.progress.message !== lastMessage)
      out.write(`${update.progress.step}/${update.progress.steps} ${update.progress.message}\n`);
    lastMessage = update.progress.message;
  };
  // Subscribe before starting, so not even the first step goes unseen.
  const dispose = services.events.on('tasks:update', (update) => {
    if (taskId === undefined) early.push(update);
    else if (update.id === taskId) show(update);
  });
  let task: TaskInfo;
  try {
    task = await start();
  } catch (e) {
    dispose();
    throw e;
  }
  taskId = task.id;
  early.filter((u) => u.id === task.id).forEach(show);
  const onSigint = () => {
    err.write('\ncanceling…\n');
    services.tasks.cancel(task.id);
  };
  process.on('SIGINT', onSigint);
  try {
    const final = await services.tasks.wait(task.id);
    if (tty) out.write('\r\x1b[K');
    if (final.state === 'succeeded') {
      out.write(`${task.title}: ${final.result ?? 'done'}\n`);
      return 0;
    }
    if (final.state === 'canceled') {
      err.write(`${task.title}: canceled\n`);
      return 130;
    }
    err.write(
      `${task.title} failed: ${final.error?.message ?? 'unknown error'}\n${final.error?.hint ? `  hint: ${final.error.hint}\n` : ''}`,
    );
    return 1;
  } finally {
    dispose();
    process.off('SIGINT', onSigint);
  }
}
