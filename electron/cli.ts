/**
 * `microlab`: the headless CLI over the same services the app uses, called in process
 * through the same dispatcher (so input is validated exactly as over IPC or WebSocket).
 */
import path from 'node:path';
import type { DoctorReport, ImageInfo, StatusReport, TaskInfo } from './api/contract';
import { localApi } from './api/local';
import { ApiError } from './errors';
import { redact, startWebServer } from './api/ws-server';
import { parseCommand, USAGE, UsageError } from './cli/args';
import { runFirewallCommand } from './cli/firewall';
import { runTerminalCommand } from './cli/terminal';
import { runLabCommand } from './cli/lab';
import { runExportCommand } from './cli/export';
import type { Command } from './cli/args';
import { followLoad, formatDeployment, formatLoadReport } from './cli/deploy';
import { formatBytes } from './engine/doctor';
import { APP_VERSION } from './engine/labels';
import { rendererDir } from './paths';
import type { Services } from './services';
import { createServices, reconcileOnStart } from './services';

const MARK = { pass: '✔', warn: '!', fail: '✘', skip: '-' } as const;

/**
 * Exit codes: 0 fine, 1 a check or task failed (a policy that does not validate, whether
 * validated or applied; an export a target refuses), 2 usage or engine error, 130 canceled.
 */
export async function main(argv: string[], out = process.stdout, err = process.stderr): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    // The one line that says what is wrong stays in sight; the full usage is one command away.
    err.write(`microlab: ${e.message}\nRun \`microlab help\` for every command and its options.\n`);
    return 2;
  }
  if (command.name === 'help') {
    out.write(`${USAGE}\n`);
    return 0;
  }
  if (command.name === 'version') {
    out.write(`microlab ${APP_VERSION}\n`);
    return 0;
  }

  const services = createServices();
  const api = localApi(services);
  const { call } = api;
  const print = (value: unknown) => out.write(`${JSON.stringify(value, null, 2)}\n`);

  try {
    switch (command.name) {
      case 'doctor': {
        const report = await call('engine:doctor', {});
        if (command.json) print(report);
        else out.write(formatDoctor(report));
        return report.ok ? 0 : 1;
      }
      case 'status': {
        const [report, deployment] = await Promise.all([
          call('engine:status', {}),
          call('deploy:status', {}),
        ]);
        if (command.json) print({ ...report, deployment });
        else out.write(formatStatus(report) + formatDeployment(deployment));
        return 0;
      }
      case 'images-ls': {
        const images = await call('images:list', {});
        if (command.json) print(images);
        else out.write(formatImages(images));
        return 0;
      }
      case 'images-prepare':
        return followTask(
          services,
          () =>
            call('images:prepare', {
              ...(command.bundle ? { bundle: path.resolve(command.bundle) } : {}),
              ...(command.architectures ? { architectures: command.architectures } : {}),
            }),
          out,
          err,
        );
      case 'images-import':
        return followTask(
          services,
          () => call('images:import', { file: path.resolve(command.file) }),
          out,
          err,
        );
      case 'images-export':
        return followTask(
          services,
          () => call('images:export', { file: path.resolve(command.file) }),
          out,
          err,
        );
      case 'policy-apply':
      case 'policy-validate':
      case 'policy-show':
      case 'policy-clear':
      case 'policy-explain':
      case 'flows':
      case 'counters':
      case 'probe':
      case 'blast-radius':
        return await runFirewallCommand(command, call, api.on, out, err);
      case 'lab-list':
      case 'lab-start':
      case 'lab-status':
      case 'lab-check':
      case 'lab-hint':
      case 'lab-solve':
      case 'lab-reset':
      case 'lab-next':
      case 'lab-do':
      case 'lab-answer':
      case 'lab-summary':
      case 'lab-table':
      case 'lab-export':
      case 'class-summary':
      case 'class-report':
      case 'class-guide':
      case 'student-show':
      case 'student-set':
        return await runLabCommand(command, call, (start) => followTask(services, start, out, err), out);
      case 'export-kubernetes':
        return await runExportCommand(command, call, out, err);
      case 'down': {
        const report = await call('resources:down', { images: command.images });
        for (const r of report.removed) out.write(`removed ${r.kind} ${r.name}\n`);
        for (const f of report.failed)
          err.write(
            `could not remove ${f.resource.kind} ${f.resource.name}: ${f.error}\n${f.hint ? `  hint: ${f.hint}\n` : ''}`,
          );
        out.write(downSummary(report.removed.length, report.failed.length));
        return report.failed.length ? 1 : 0;
      }
      case 'shell':
      case 'exec':
        try {
          return await runTerminalCommand(api, command);
        } finally {
          api.close();
        }
      case 'web':
        return await serveWeb(services, command.port, out);
      case 'up':
        return followTask(
          services,
          () =>
            call('deploy:up', {
              deployment: command.deployment,
              ...(command.port !== undefined ? { port: command.port } : {}),
              ...(command.perimeter ? { layout: 'perimeter' as const } : {}),
            }),
          out,
          err,
        );
      case 'scale':
        return followTask(
          services,
          () =>
            call('deploy:scale', {
              service: command.service,
              replicas: command.replicas,
              ...(command.cpus !== undefined ? { cpus: command.cpus } : {}),
            }),
          out,
          err,
        );
      case 'upgrade':
        return followTask(
          services,
          () => call('deploy:upgrade', { service: command.service, version: command.version }),
          out,
          err,
        );
      case 'load': {
        const task = await call('load:run', {
          rate: command.rate,
          duration: command.duration,
          ...(command.mix ? { mix: command.mix } : {}),
          ...(command.capacity ? { capacity: command.capacity } : {}),
        });
        const final = await followLoad(services, task, out, !command.json);
        if (final.state !== 'succeeded') {
          err.write(`${task.title}: ${final.state === 'canceled' ? 'canceled' : final.error?.message}\n`);
          return final.state === 'canceled' ? 130 : 1;
        }
        const report = await call('load:report', { taskId: task.id });
        if (command.json) print(report);
        else out.write(formatLoadReport(report));
        return 0;
      }
    }
  } catch (e) {
    const error = e instanceof ApiError ? e : new ApiError('internal', (e as Error).message);
    if (error.code === 'export-refused') {
      // A refusal is an answer, not a fault: each construct on its line, the options that accept the losses.
      err.write(`microlab: refused:\n${error.message}\n${error.hint ? `  hint: ${error.hint}\n` : ''}`);
      return 1;
    }
    if (error.code === 'policy-invalid') {
      // The same lines and the same code as `policy validate`: one fault, one answer.
      err.write(`${error.message}\n${error.hint ? `  hint: ${error.hint}\n` : ''}`);
      return 1;
    }
    err.write(`microlab: ${error.message}\n${error.hint ? `  hint: ${error.hint}\n` : ''}`);
    return 2;
  }
}

/** The last line of `down`: what went, and what is left (never "nothing to remove" while something is). */
export function downSummary(removed: number, failed: number): string {
  if (failed === 0) return removed ? `${removed} removed.\n` : 'Nothing to remove.\n';
  const left = `${failed} left (see above)`;
  return removed ? `${removed} removed, ${left}.\n` : `Nothing removed: ${left}.\n`;
}

export function formatDoctor(report: DoctorReport): string {
  const lines = [`MicroLab doctor (${report.platform})`];
  for (const c of report.checks) {
    lines.push(`${MARK[c.status]} ${c.title}: ${c.summary}`);
    if (c.hint) lines.push(`    hint: ${c.hint}`);
  }
  lines.push(report.ok ? 'Ready for the labs.' : 'Not ready: fix the items marked ✘ above.');
  return lines.join('\n') + '\n';
}

function formatImages(images: ImageInfo[]): string {
  return (
    images
      .map(
        (i) =>
          `${i.present ? '✔' : '✘'} ${i.name.padEnd(28)} ${i.present ? formatBytes(i.sizeBytes ?? 0).padStart(9) : '  missing'}  ${(i.architecture ?? '').padEnd(5)}  ${i.role}${i.required ? '' : ' (not required)'}`,
      )
      .join('\n') + '\n'
  );
}

function formatStatus(report: StatusReport): string {
  const lines = [
    `Engine: ${report.engineName} ${report.engineVersion} at ${report.endpoint.address} (${report.endpoint.source})`,
    `Project: ${report.project}`,
    'Images:',
    ...formatImages(report.images)
      .trimEnd()
      .split('\n')
      .map((l) => `  ${l}`),
    report.resources.length ? 'Running:' : 'Running: nothing',
    ...report.resources.map((r) => `  ${r.kind.padEnd(9)} ${r.name}${r.state ? ` (${r.state})` : ''}`),
  ];
  return lines.join('\n') + '\n';
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

async function serveWeb(
  services: Services,
  port: number | undefined,
  out: NodeJS.WriteStream,
): Promise<number> {
  await reconcileOnStart(services);
  // Keep the policy in force on workloads that come and go while the app runs.
  const stopFirewall = await services.firewall.watch().catch(() => undefined);
  // Say when the firewall's watcher loses the engine and when it has it again.
  const stopEngineLog = services.events.on('engine:connection', (change) => {
    if (change.state === 'lost') out.write(`the Docker engine went away (${change.reason}); reconnecting\n`);
    if (change.state === 'restored')
      out.write(
        `the Docker engine is back after ${(change.downMs / 1000).toFixed(1)} s; tables checked again\n`,
      );
  });
  const server = await startWebServer({
    handlers: services.handlers,
    events: services.events,
    staticDir: rendererDir(),
    port,
  });
  out.write(
    `MicroLab is serving its UI at ${server.url}\n(127.0.0.1 only; the token changes each run. Ctrl-C stops it.)\n`,
  );
  // What nothing else caught is told and survived: a page must not be able to end the server.
  const survive = (what: string) => (error: unknown) =>
    process.stderr.write(
      `microlab web: ${what} (kept running): ${redact(error instanceof Error ? (error.stack ?? error.message) : String(error), server.token)}\n`,
    );
  const onRejection = survive('a promise failed with nobody waiting for it');
  const onException = survive('an unexpected error');
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    process.once('SIGHUP', resolve);
  });
  stopEngineLog();
  stopFirewall?.();
  services.firewall.close();
  await server.close();
  // The browsers' sessions end with their processes in the containers before this process does.
  await services.terminal.closeAll();
  process.off('unhandledRejection', onRejection);
  process.off('uncaughtException', onException);
  return 0;
}
