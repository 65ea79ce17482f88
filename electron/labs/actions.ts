/**
 * What a step's buttons and its solve do, through the API only: apply or clear a policy, start
 * a deployment, scale, upgrade, run a load (in the background while the next entries run, e.g.
 * an upgrade under load), run a command in a workload, copy a skeleton into the workspace,
 * answer a question. `terminal` is the UI's (it opens a terminal panel).
 *
 * Each kind is defined once, its fields (a zod schema), its one-line description and how it
 * runs together (`ACTION_KINDS`); the lab format takes `ActionSchema` and `oneAction` from here.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { z } from 'zod';
import type { LoadReport } from '../api/contract';
import { ApiError } from '../errors';
import type { LabClient } from './client';
import { execIn, runTask } from './client';
import { found, id, mix, mode, deployment, layout, NAME, output, policyRef, workload } from './fields';
import { StateReader } from './state';

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

/** What running an entry gave: the line that says what it did (default: its description), a load left running. */
interface Ran {
  line?: string;
  /** A background load: ends it and returns its report. */
  background?: () => Promise<LoadReport>;
}

/** One kind of action: its fields, what it does in one line, and how it runs. */
interface ActionKindDefinition<S extends z.ZodType> {
  schema: S;
  describe(spec: z.output<S>): string;
  /** Runs it through the API; `said` is its description. Throws an ApiError when it fails. */
  run(spec: z.output<S>, ctx: ActionContext, said: string): Promise<Ran | void>;
}
const actionKind = <S extends z.ZodType>(kind: ActionKindDefinition<S>): ActionKindDefinition<S> => kind;

/** Every kind of action, by name. */
export const ACTION_KINDS = {
  'apply-policy': actionKind({
    schema: z.strictObject({
      policy: policyRef,
      mode: mode.optional(),
      keepEstablished: z.boolean().optional().meta({
        description:
          'keep the connections opened under the previous policy (`policy apply --keep-established`); by default those the new policy denies are cut',
      }),
    }),
    describe: (spec) =>
      `apply ${path.basename(spec.policy.replace(/^workspace:/, ''))}${spec.mode ? ` in ${spec.mode} mode` : ''}${spec.keepEstablished ? ', keeping established connections' : ''}`,
    async run(spec, ctx) {
      await ctx.client.call('policy:apply', {
        file: ctx.resolvePolicy(spec.policy),
        ...(spec.mode ? { mode: spec.mode } : {}),
        ...(spec.keepEstablished ? { keepEstablished: true } : {}),
      });
    },
  }),
  'clear-policy': actionKind({
    schema: z.strictObject({}),
    describe: (_spec) => 'remove the policy in force',
    async run(_spec, ctx) {
      await ctx.client.call('policy:clear', {});
    },
  }),
  up: actionKind({
    schema: z.strictObject({ deployment, layout: layout.optional() }),
    describe: (spec) =>
      `start the ${spec.deployment}${spec.layout === 'perimeter' ? ' behind the perimeter' : ''}`,
    async run(spec, ctx) {
      await runTask(ctx.client, 'deploy:up', {
        deployment: spec.deployment,
        ...(spec.layout ? { layout: spec.layout } : {}),
        ...(ctx.port !== undefined ? { port: ctx.port } : {}),
      });
    },
  }),
  scale: actionKind({
    schema: z.strictObject({
      service: workload,
      replicas: z.int().min(1).max(10),
      cpus: z
        .number()
        .min(0.05)
        .max(4)
        .optional()
        .meta({ description: 'CPU limit of every replica, in cores (0.25: a quarter of one)' }),
    }),
    describe: (spec) =>
      `scale ${spec.service} to ${spec.replicas}${spec.cpus !== undefined ? ` at ${spec.cpus} CPU each` : ''}`,
    async run(spec, ctx) {
      await runTask(ctx.client, 'deploy:scale', {
        service: spec.service,
        replicas: spec.replicas,
        ...(spec.cpus !== undefined ? { cpus: spec.cpus } : {}),
      });
    },
  }),
  upgrade: actionKind({
    schema: z.strictObject({
      service: workload,
      version: z.int().min(1).max(4).meta({
        description:
          '2: ratings; 3 and 4 are broken on purpose (3: checkout fails with a 500; 4: the process hangs 2 s after it is ready). A roll that fails is halted and rolled back: the action reports it and does not fail',
      }),
    }),
    describe: (spec) => `upgrade ${spec.service} to version ${spec.version}`,
    async run(spec, ctx, said) {
      try {
        await runTask(ctx.client, 'deploy:upgrade', { service: spec.service, version: spec.version });
      } catch (err) {
        // A release that failed and was rolled back is an outcome the lab measures, not a fault.
        if (!(err instanceof ApiError) || err.code !== 'rolled-back') throw err;
        return { line: `${said}: ${err.message.replace(/^deploy:upgrade failed: /, '')}` };
      }
    },
  }),
  load: actionKind({
    schema: z.strictObject({
      rate: z
        .number()
        .positive()
        .max(500)
        .meta({ description: 'scenarios started per second (with capacity: the first rate offered)' }),
      duration: z
        .number()
        .min(1)
        .max(300)
        .meta({ description: 'seconds (with capacity: the most the search may take)' }),
      mix: mix.optional(),
      capacity: z
        .strictObject({
          p95Ms: z.number().positive().max(60_000).optional(),
          maxErrorRate: z.number().min(0).max(1).optional(),
          stepSeconds: z.number().min(1).max(30).optional(),
          factor: z.number().min(1.05).max(4).optional(),
        })
        .optional()
        .meta({
          description:
            'search for the capacity: the rate raised step by step until p95 or the failed share crosses its bound (defaults: 500 ms, 0.01)',
        }),
      background: z.boolean().optional().meta({
        description:
          'keep running while the next entries of the same solve run; they start once its clock runs (an upgrade or a policy change under load)',
      }),
    }),
    describe: (spec) =>
      spec.capacity
        ? `capacity search from ${spec.rate}/s`
        : `load ${spec.rate}/s for ${spec.duration} s${spec.background ? ' (in the background)' : ''}`,
    async run(spec, ctx) {
      const finish = await runLoad(ctx, spec);
      if (spec.background) return { background: finish };
      const report = await finish();
      const all = report.endpoints.find((e) => e.endpoint === 'all');
      return {
        line: `load: ${all?.count ?? 0} requests, ${all?.errors ?? 0} errors, p95 ${all?.p95 ?? 0} ms`,
      };
    },
  }),
  exec: actionKind({
    schema: z.strictObject({
      workload,
      firewall: z.boolean().optional().meta({
        description:
          "run it in the workload's firewall instead (its pod's holder, root with NET_ADMIN; behind the perimeter, the router): a fault injected into an enforcement point",
      }),
      command: z.array(z.string().max(2000)).min(1).max(50),
    }),
    describe: (spec) =>
      `run \`${spec.command.join(' ')}\` in ${spec.firewall ? 'the firewall of ' : ''}${spec.workload}`,
    async run(spec, ctx) {
      const result = await execIn(
        ctx.client,
        spec.workload,
        spec.command,
        EXEC_TIMEOUT_MS,
        spec.firewall ? 'firewall' : 'workload',
      );
      if (result.exitCode !== 0)
        throw new ApiError(
          'exec-failed',
          `\`${spec.command.join(' ')}\` in ${spec.firewall ? 'the firewall of ' : ''}${spec.workload} exited with ${result.exitCode}: ${result.output.trim().split('\n').slice(-3).join(' / ')}`,
        );
    },
  }),
  terminal: actionKind({
    schema: z.strictObject({
      workload,
      firewall: z.boolean().optional(),
      command: z.string().max(2000).optional(),
    }),
    describe: (spec) => `open a terminal in ${spec.firewall ? 'the firewall of ' : ''}${spec.workload}`,
    async run(spec, ctx, said) {
      throw new ApiError('ui-action', `"${said}" is done in the app's terminal panel`);
    },
  }),
  workspace: actionKind({
    schema: z.strictObject({
      file: z
        .string()
        .regex(NAME)
        .meta({ description: "a file of the lab's folder, copied into the workspace" }),
      as: z.string().regex(NAME).optional(),
    }),
    describe: (spec) => `copy ${spec.file} into the workspace${spec.as ? ` as ${spec.as}` : ''}`,
    async run(spec, ctx, said) {
      await mkdir(ctx.workspaceDir, { recursive: true });
      const target = path.join(ctx.workspaceDir, spec.as ?? spec.file);
      // A file of the lab's folder, or else a shipped policy (a lab that hands one over to fix).
      const source = ctx.resolvePolicy(spec.file);
      const text = workspaceText(await readFile(source, 'utf8'), source);
      const kept = await keepStudentVersion(text, target);
      await writeFile(target, text);
      if (kept) return { line: `${said} (your own version is kept as ${path.basename(kept)})` };
    },
  }),
  answer: actionKind({
    schema: z
      .strictObject({
        question: id('question id'),
        answer: z.string().min(1).max(500).optional(),
        found: z
          .lazy(() => found)
          .optional()
          .meta({
            description:
              "answer with a value read off the system where a workload stands (this student's own)",
          }),
        output: z
          .lazy(() => output)
          .optional()
          .meta({
            description: 'answer with what a command prints in a workload now',
          }),
      })
      .refine(
        (v) => [v.answer, v.found, v.output].filter((x) => x !== undefined).length === 1,
        'give one of answer, found or output',
      ),
    describe: (spec) => `answer "${spec.question}"`,
    async run(spec, ctx) {
      const f = spec.found;
      const o = spec.output;
      const value = f
        ? await new StateReader(ctx.client).found(f.workload, f.field)
        : o
          ? (await execIn(ctx.client, o.workload, o.command)).output.trim()
          : spec.answer;
      if (value === undefined) throw new ApiError('solve-failed', `no ${f!.field} found in ${f!.workload}`);
      await ctx.recordAnswer(spec.question, value);
    },
  }),
};
export type ActionKind = keyof typeof ACTION_KINDS;
const KIND_NAMES = Object.keys(ACTION_KINDS) as ActionKind[];
type LoadSpec = z.output<(typeof ACTION_KINDS)['load']['schema']>;

/** An action as written: one kind key with its fields (plus id and label on a button). */
export type ActionEntry = Record<string, unknown>;

/** One kind key and its fields, e.g. `{ scale: { service: catalog, replicas: 3 } }`: a solve entry. */
export const oneAction = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  const kinds = Object.keys(value).filter((k) => k in ACTION_KINDS);
  if (kinds.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message: `an action has exactly one of ${KIND_NAMES.join(', ')}${kinds.length ? ` (found ${kinds.join(', ')})` : ''}`,
    });
    return;
  }
  const kind = kinds[0] as ActionKind;
  const result = ACTION_KINDS[kind].schema.safeParse(value[kind]);
  if (!result.success)
    for (const issue of result.error.issues)
      ctx.addIssue({ code: 'custom', message: issue.message, path: [kind, ...issue.path] });
});

/** A step's button: `{ id, label, <kind>: {...} }`. */
export const ActionSchema = z
  .looseObject({
    id: id('action id'),
    label: z.string().min(1).max(120),
  })
  .superRefine((value, ctx) => {
    const rest = Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'id' && k !== 'label'));
    const result = oneAction.safeParse(rest);
    if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ ...issue, code: 'custom' });
  })
  .meta({ description: '{ id, label, <kind>: {...} }, kind one of ' + KIND_NAMES.join(', ') });

type AnyKind = ActionKindDefinition<z.ZodType>;

/** The kind and fields of an action entry (already validated). */
export function actionOf(entry: ActionEntry): { kind: ActionKind; spec: Record<string, unknown> } {
  const kind = Object.keys(entry).find((k) => k in ACTION_KINDS) as ActionKind;
  return { kind, spec: (ACTION_KINDS[kind] as AnyKind).schema.parse(entry[kind]) as Record<string, unknown> };
}

/** One line saying what an entry does, for task progress and the CLI. */
export function describeAction(entry: ActionEntry): string {
  const { kind, spec } = actionOf(entry);
  return (ACTION_KINDS[kind] as AnyKind).describe(spec);
}

async function runLoad(ctx: ActionContext, spec: LoadSpec): Promise<() => Promise<LoadReport>> {
  const task = await ctx.client.call('load:run', {
    rate: spec.rate,
    duration: spec.duration,
    ...(spec.mix ? { mix: spec.mix } : {}),
    ...(spec.capacity ? { capacity: spec.capacity } : {}),
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
      const definition = ACTION_KINDS[kind] as AnyKind;
      const said = definition.describe(spec);
      ctx.progress?.(said);
      const ran = await definition.run(spec, ctx, said);
      if (ran?.background) background.push(ran.background);
      done.push(ran?.line ?? said);
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
