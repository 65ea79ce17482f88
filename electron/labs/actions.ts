/**
 * What a step's buttons and its solve do, through the API only: apply or clear a policy, start
 * a deployment, scale, upgrade, run a load (in the background while the next entries run, e.g.
 * an upgrade under load), run a command in a workload, copy a skeleton into the workspace,
 * answer a question. `terminal` is the UI's (it opens a terminal panel).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import type { LoadReport, LoadScenario } from '../api/contract';
import { ApiError } from '../errors';
import type { LabClient } from './client';
import { execIn, runTask } from './client';
import { actionOf } from './format';
import { StateReader } from './state';
import type { ActionEntry } from './format';
import type { DeploymentName, FoundField, Layout, Mode } from '../api/vocabulary';

export interface ActionContext {
  client: LabClient;
  labDir: string;
  workspaceDir: string;
  resolvePolicy(ref: string): string;
  /** The storefront's port for an `up` (absent: the default). */
  port?: number;
  /** Sees each load an entry ran, once it ended (the services record it in the active lab). */
  onLoad?(report: LoadReport): void;
  recordAnswer(question: string, answer: string): Promise<void>;
  /** Progress for the task running the entries. */
  progress?(message: string): void;
}

/** One line saying what an entry does, for task progress and the CLI. */
export function describeAction(entry: ActionEntry): string {
  const { kind, spec } = actionOf(entry);
  switch (kind) {
    case 'apply-policy':
      return `apply ${path.basename(String(spec.policy).replace(/^workspace:/, ''))}${spec.mode ? ` in ${String(spec.mode)} mode` : ''}${spec.keepEstablished ? ', keeping established connections' : ''}`;
    case 'clear-policy':
      return 'remove the policy in force';
    case 'up':
      return `start the ${String(spec.deployment)}${spec.layout === 'perimeter' ? ' behind the perimeter' : ''}`;
    case 'scale':
      return `scale ${String(spec.service)} to ${String(spec.replicas)}${spec.cpus !== undefined ? ` at ${String(spec.cpus)} CPU each` : ''}`;
    case 'upgrade':
      return `upgrade ${String(spec.service)} to version ${String(spec.version)}`;
    case 'load':
      return spec.capacity
        ? `capacity search from ${String(spec.rate)}/s`
        : `load ${String(spec.rate)}/s for ${String(spec.duration)} s${spec.background ? ' (in the background)' : ''}`;
    case 'exec':
      return `run \`${(spec.command as string[]).join(' ')}\` in ${spec.firewall ? 'the firewall of ' : ''}${String(spec.workload)}`;
    case 'terminal':
      return `open a terminal in ${spec.firewall ? 'the firewall of ' : ''}${String(spec.workload)}`;
    case 'workspace':
      return `copy ${String(spec.file)} into the workspace${spec.as ? ` as ${String(spec.as)}` : ''}`;
    case 'answer':
      return `answer "${String(spec.question)}"`;
  }
}

async function runLoad(
  ctx: ActionContext,
  spec: Record<string, unknown>,
): Promise<() => Promise<LoadReport>> {
  const task = await ctx.client.call('load:run', {
    rate: spec.rate as number,
    duration: spec.duration as number,
    ...(spec.mix ? { mix: spec.mix as Partial<Record<LoadScenario, number>> } : {}),
    ...(spec.capacity ? { capacity: spec.capacity as Record<string, number> } : {}),
  });
  if (spec.background) await loadUnderWay(ctx.client, task.id);
  return async () => {
    const final = await ctx.client.wait(task.id);
    if (final.state !== 'succeeded')
      throw new ApiError(
        final.error?.code ?? final.state,
        `the load ${final.state}: ${final.error?.message ?? ''}`,
      );
    const report = await ctx.client.call('load:report', { taskId: task.id });
    ctx.onLoad?.(report);
    return report;
  };
}

/**
 * A lab file as it lands in the workspace: a relative `$schema:` line (the editor's completion
 * and checks, relative to the lab's folder) points at the same schema from the workspace, as a
 * file URL. Everything else is byte for byte the lab's.
 */
export function workspaceText(text: string, source: string): string {
  return text.replace(/^(\$schema:\s*)(\S+)\s*$/m, (line, key: string, ref: string) =>
    /^[a-z][a-z0-9+.-]*:/i.test(ref) || path.isAbsolute(ref)
      ? line
      : `${key}${pathToFileURL(path.resolve(path.dirname(source), ref)).href}`,
  );
}

/**
 * Before a workspace file is replaced: when the student's file there differs from what replaces
 * it, it is renamed to NAME.saved-YYYYMMDD-HHMMSS.EXT (nothing the student wrote is lost).
 * Returns the new path, or undefined when there was nothing of theirs to keep.
 */
async function keepStudentVersion(text: string, target: string): Promise<string | undefined> {
  const theirs = await readFile(target, 'utf8').catch(() => undefined);
  if (theirs === undefined || theirs === text) return undefined;
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const ext = path.extname(target);
  const kept = `${target.slice(0, target.length - ext.length)}.saved-${stamp}${ext}`;
  await rename(target, kept);
  return kept;
}

/** How long an `exec` entry may run (a fault held for a few seconds, then undone, fits). */
const EXEC_TIMEOUT_MS = 60_000;

/** How often, and for how long at most, a background load is watched until its clock runs. */
export const LOAD_START_POLL_MS = 250;
export const LOAD_START_TIMEOUT_MS = 60_000;

/**
 * Waits until a load's generator reports its first second (its task's progress reads "1/15s"),
 * or the task ends, or a minute passed: what runs "under load" after it then really does. (The
 * generator reads the catalog and makes its accounts before its clock starts; a policy applied
 * before that would stop the load itself rather than be measured by it.)
 */
async function loadUnderWay(client: LabClient, taskId: string): Promise<void> {
  const until = Date.now() + LOAD_START_TIMEOUT_MS;
  while (Date.now() < until) {
    const task = (await client.call('tasks:list', {})).find((t) => t.id === taskId);
    if (!task || task.state !== 'running' || /^\d+\/\d+s$/.test(task.progress.message)) return;
    await new Promise((resolve) => setTimeout(resolve, LOAD_START_POLL_MS));
  }
}

/**
 * Runs entries in order; a background load runs alongside the entries after them, which start
 * once its clock runs. Returns one line.
 */
export async function runEntries(entries: ActionEntry[], ctx: ActionContext): Promise<string> {
  const done: string[] = [];
  const background: (() => Promise<LoadReport>)[] = [];
  try {
    for (const entry of entries) {
      const { kind, spec } = actionOf(entry);
      ctx.progress?.(describeAction(entry));
      switch (kind) {
        case 'apply-policy':
          await ctx.client.call('policy:apply', {
            file: ctx.resolvePolicy(spec.policy as string),
            ...(spec.mode ? { mode: spec.mode as Mode } : {}),
            ...(spec.keepEstablished ? { keepEstablished: true } : {}),
          });
          break;
        case 'clear-policy':
          await ctx.client.call('policy:clear', {});
          break;
        case 'up':
          await runTask(ctx.client, 'deploy:up', {
            deployment: spec.deployment as DeploymentName,
            ...(spec.layout ? { layout: spec.layout as Layout } : {}),
            ...(ctx.port !== undefined ? { port: ctx.port } : {}),
          });
          break;
        case 'scale':
          await runTask(ctx.client, 'deploy:scale', {
            service: spec.service as string,
            replicas: spec.replicas as number,
            ...(spec.cpus !== undefined ? { cpus: spec.cpus as number } : {}),
          });
          break;
        case 'upgrade':
          try {
            await runTask(ctx.client, 'deploy:upgrade', {
              service: spec.service as string,
              version: spec.version as number,
            });
          } catch (err) {
            // A release that failed and was rolled back is an outcome the lab measures, not a fault.
            if (!(err instanceof ApiError) || err.code !== 'rolled-back') throw err;
            done.push(`${describeAction(entry)}: ${err.message.replace(/^deploy:upgrade failed: /, '')}`);
            continue;
          }
          break;
        case 'load': {
          const finish = await runLoad(ctx, spec);
          if (spec.background) background.push(finish);
          else {
            const report = await finish();
            const all = report.endpoints.find((e) => e.endpoint === 'all');
            done.push(
              `load: ${all?.count ?? 0} requests, ${all?.errors ?? 0} errors, p95 ${all?.p95 ?? 0} ms`,
            );
            continue;
          }
          break;
        }
        case 'exec': {
          const result = await execIn(
            ctx.client,
            spec.workload as string,
            spec.command as string[],
            EXEC_TIMEOUT_MS,
            spec.firewall ? 'firewall' : 'workload',
          );
          if (result.exitCode !== 0)
            throw new ApiError(
              'exec-failed',
              `\`${(spec.command as string[]).join(' ')}\` in ${spec.firewall ? 'the firewall of ' : ''}${String(spec.workload)} exited with ${result.exitCode}: ${result.output.trim().split('\n').slice(-3).join(' / ')}`,
            );
          break;
        }
        case 'terminal':
          throw new ApiError('ui-action', `"${describeAction(entry)}" is done in the app's terminal panel`);
        case 'workspace': {
          await mkdir(ctx.workspaceDir, { recursive: true });
          const target = path.join(
            ctx.workspaceDir,
            (spec.as as string | undefined) ?? (spec.file as string),
          );
          // A file of the lab's folder, or else a shipped policy (a lab that hands one over to fix).
          const source = ctx.resolvePolicy(spec.file as string);
          const text = workspaceText(await readFile(source, 'utf8'), source);
          const kept = await keepStudentVersion(text, target);
          await writeFile(target, text);
          if (kept) {
            done.push(`${describeAction(entry)} (your own version is kept as ${path.basename(kept)})`);
            continue;
          }
          break;
        }
        case 'answer': {
          const f = spec.found as { workload: string; field: FoundField } | undefined;
          const o = spec.output as { workload: string; command: string[] } | undefined;
          const value = f
            ? await new StateReader(ctx.client).found(f.workload, f.field)
            : o
              ? (await execIn(ctx.client, o.workload, o.command)).output.trim()
              : (spec.answer as string);
          if (value === undefined)
            throw new ApiError('solve-failed', `no ${f!.field} found in ${f!.workload}`);
          await ctx.recordAnswer(spec.question as string, value);
          break;
        }
      }
      done.push(describeAction(entry));
    }
  } finally {
    // A background load always ends and is recorded, even when an entry after it failed.
    const results = await Promise.allSettled(background.map((finish) => finish()));
    for (const r of results)
      if (r.status === 'fulfilled') {
        const all = r.value.endpoints.find((e) => e.endpoint === 'all');
        done.push(`load: ${all?.count ?? 0} requests, ${all?.errors ?? 0} errors`);
      }
  }
  return done.join('; ');
}
