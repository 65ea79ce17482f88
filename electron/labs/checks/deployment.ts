/**
 * Checks of the deployment and the load it serves: which shape runs (and how), a workload's
 * replicas, containers untouched since the step or the lab started, a load's figures.
 */
import { z } from 'zod';
import { deployment, layout, mix, since, workload } from '../fields';
import { endpointsOf } from '../state';
import { checkKind, clock, fail, pass } from './kind';

/** How much earlier than its recorded end less its duration a load may have started, ms. */
const COVER_SLACK_MS = 3000;

export const deploymentChecks = {
  deployment: checkKind({
    fields: { deployment, layout: layout.optional() },
    describe: (check) =>
      `the ${check.deployment} runs${check.layout ? ` in the ${check.layout} layout` : ''}`,
    async evaluate(check, ctx) {
      const s = await ctx.state.deployment();
      if (!s.deployment) return fail(`nothing is deployed; the step expects the ${check.deployment}`);
      if (s.deployment !== check.deployment)
        return fail(`the ${s.deployment} is deployed; the step expects the ${check.deployment}`);
      if (check.layout && s.layout !== check.layout)
        return fail(
          `the ${s.deployment} runs in the ${s.layout ?? 'flat'} layout; the step expects ${check.layout}`,
        );
      if (!s.healthy) return fail(`the ${s.deployment} is deployed but not every container is healthy`);
      return pass(`the ${s.deployment} runs (${s.layout ?? 'flat'}), every container healthy`);
    },
  }),
  replicas: checkKind({
    fields: {
      workload,
      count: z.int().min(0).max(10).optional(),
      version: z.int().min(1).max(2).optional(),
      healthy: z.boolean().default(true),
    },
    describe: (check) =>
      `${check.workload}: ${check.count ?? 'its'} replica${check.count === 1 ? '' : 's'}${check.healthy ? ' healthy' : ''}${check.version ? `, version ${check.version}` : ''}`,
    async evaluate(check, ctx) {
      const s = await ctx.state.deployment();
      const replicas = s.workloads.filter((w) => w.workload === check.workload);
      if (check.count !== undefined && replicas.length !== check.count)
        return fail(
          `${check.workload} has ${replicas.length} replica${replicas.length === 1 ? '' : 's'}; the step expects ${check.count}`,
        );
      if (!replicas.length && check.count !== 0) return fail(`${check.workload} is not running`);
      const sick = replicas.filter((w) => w.health !== 'healthy');
      if (check.healthy && sick.length)
        return fail(
          `${sick.map((w) => `${w.container} is ${w.health}`).join(', ')}; the step expects every replica healthy`,
        );
      const other = replicas.filter(
        (w) => check.version !== undefined && w.version !== String(check.version),
      );
      if (other.length)
        return fail(
          `${other.map((w) => `${w.container} runs version ${w.version ?? '?'}`).join(', ')}; the step expects version ${check.version}`,
        );
      return pass(
        `${check.workload}: ${replicas.length} replica${replicas.length === 1 ? '' : 's'}${check.healthy ? ', healthy' : ''}${check.version ? `, version ${check.version}` : ''}`,
      );
    },
  }),
  unchanged: checkKind({
    fields: {
      workloads: z.array(workload).min(1).optional().meta({ description: 'default: every workload' }),
      except: z.array(workload).optional(),
      since,
    },
    describe: (check) =>
      `${check.workloads ? check.workloads.join(', ') : 'every container'}${check.except ? ` except ${check.except.join(', ')}` : ''} untouched since the ${check.since} started`,
    async evaluate(check, ctx) {
      const before = (check.since === 'lab' ? ctx.labStart : ctx.stepStart).containers;
      const s = await ctx.state.deployment();
      const chosen = before.filter(
        (c) =>
          (!check.workloads || check.workloads.includes(c.workload)) &&
          !(check.except ?? []).includes(c.workload),
      );
      if (!chosen.length)
        return fail(
          `no container of ${check.workloads?.join(', ') ?? 'the deployment'} was recorded when the ${check.since} started`,
        );
      if (chosen.some((c) => !c.id || !c.startedAt))
        return fail("cannot read the containers' identity (id and start time) from the deployment status");
      // A replacement (another container, another image) is a change; the same container started
      // again is not: the engine restarts it (its restart policy after its process exited, or
      // the engine itself restarting) and the firewall agent restarts an app into its reopened
      // holder, none of it a step's doing. Such a restart is named, and passes.
      const changed: string[] = [];
      const restarted: string[] = [];
      for (const c of chosen) {
        const now = s.workloads.find((w) => w.container === c.container);
        if (!now) changed.push(`${c.container} is gone`);
        else if (now.id !== c.id)
          changed.push(`${c.container} was recreated (another container under its name)`);
        else if (c.image && now.image !== c.image) changed.push(`${c.container} runs another image`);
        else if (now.startedAt !== c.startedAt)
          restarted.push(`${c.container} at ${now.startedAt ? clock(now.startedAt) : 'an unknown time'}`);
      }
      if (changed.length) return fail(`${changed.join('; ')}; the step expects them untouched`);
      const untouched = `${chosen.length} container${chosen.length === 1 ? '' : 's'} untouched: same id`;
      if (!restarted.length) return pass(`${untouched}, same start time, same image`);
      return pass(
        `${untouched}, same image; started again since the ${check.since} began, the same container${restarted.length === 1 ? '' : 's'}: ${restarted.join(', ')} (a restart by the engine or the firewall agent, not a replacement)`,
      );
    },
  }),
  load: checkKind({
    fields: {
      endpoints: z.array(z.string().max(100)).min(1).optional().meta({ description: 'default: all' }),
      maxErrors: z.int().min(0).optional(),
      minErrors: z.int().min(1).optional().meta({
        description:
          'failed requests, summed over the endpoints, the load must have seen (a step whose change breaks something)',
      }),
      minRequests: z.int().min(0).default(1),
      maxP95: z.number().positive().optional().meta({ description: 'ms' }),
      covers: workload.optional().meta({
        description:
          'the load ran through the whole roll of this workload: it started before the first replica started since the step began, and ended after the last',
      }),
      run: z
        .strictObject({
          rate: z.number().positive().max(500),
          duration: z.number().min(1).max(60),
          mix: mix.optional(),
        })
        .optional()
        .meta({ description: "a short load of its own; default: the last load run since the step's start" }),
    },
    describe: (check) =>
      `a load ran on ${check.endpoints ? check.endpoints.join(', ') : 'every endpoint'}${check.maxErrors !== undefined ? ` with at most ${check.maxErrors} errors` : ''}${check.minErrors !== undefined ? ` and saw at least ${check.minErrors} failed request${check.minErrors === 1 ? '' : 's'}` : ''}${check.maxP95 ? `, p95 under ${check.maxP95} ms` : ''}`,
    async evaluate(check, ctx) {
      const report = check.run ? await ctx.runLoad(check.run) : ctx.loads.at(-1);
      if (!report) return fail('no load has run since the step started');
      const endpoints = endpointsOf(report, check.endpoints);
      if (check.endpoints) {
        const absent = check.endpoints.filter((e) => !endpoints.some((x) => x.endpoint === e));
        if (absent.length) return fail(`the load made no request to ${absent.join(', ')}`);
      }
      const problems: string[] = [];
      for (const e of endpoints) {
        if (e.count < check.minRequests) problems.push(`${e.endpoint}: ${e.count} requests`);
        if (check.maxErrors !== undefined && e.errors > check.maxErrors)
          problems.push(`${e.endpoint}: ${e.errors} errors of ${e.count}`);
        if (check.maxP95 !== undefined && e.p95 > check.maxP95)
          problems.push(`${e.endpoint}: p95 ${e.p95} ms`);
      }
      if (check.covers) {
        const ended = Date.parse((report as { endedAt?: string }).endedAt ?? '');
        const s = await ctx.state.deployment();
        const started = s.workloads
          .filter((w) => w.workload === check.covers && w.startedAt && w.startedAt > ctx.stepStart.at)
          .map((w) => Date.parse(w.startedAt!));
        if (!started.length) return fail(`no replica of ${check.covers} started since the step began`);
        // The load's start is known only as its end (when it was recorded) less its duration:
        // a few seconds of slack keep a replica that started with the load's first second in it.
        const from = ended - report.duration * 1000 - COVER_SLACK_MS;
        const at = (t: number) => new Date(t).toISOString().slice(11, 19);
        if (!(from <= Math.min(...started) && ended >= Math.max(...started)))
          return fail(
            `the last load ran from ${at(from)} to ${at(ended)}, but ${check.covers}'s new replicas started from ${at(Math.min(...started))} to ${at(Math.max(...started))}: start the load first, then the change while it runs`,
          );
      }
      const errors = endpoints.reduce((s, e) => s + e.errors, 0);
      const requests = endpoints.reduce((s, e) => s + e.count, 0);
      const samples = report.errorSamples.length ? ` (${report.errorSamples.slice(0, 2).join('; ')})` : '';
      if (check.minErrors !== undefined && errors < check.minErrors)
        return fail(
          `${requests} requests, ${errors} failed; the step expects the load to see at least ${check.minErrors} fail (was it running when the change went in?)`,
        );
      return problems.length
        ? fail(
            `${problems.join('; ')}${samples}; the step expects${check.maxErrors !== undefined ? ` at most ${check.maxErrors} errors` : ''}${check.maxP95 ? ` p95 under ${check.maxP95} ms` : ''} per endpoint`,
          )
        : pass(
            `${requests} requests on ${endpoints.length} endpoint${endpoints.length === 1 ? '' : 's'}, ${errors} errors`,
          );
    },
  }),
};
