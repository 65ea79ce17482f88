/**
 * Checks of the firewall: the policy in force (and each workload's mode), a flow probed from
 * inside a workload, an attacker's blast radius, a rule's counter, the flow log, a policy file
 * the student wrote compared with a target's expected matrix.
 */
import path from 'node:path';
import { z } from 'zod';
import { attacker, mode, NAME, policyRef, port, verdict, workload } from '../fields';
import { packetsByRule, packetsSince } from '../state';
import { checkKind, counted, fail, inRange, pass } from './kind';

const reachability = z.enum(['connected', 'blocked'], { error: 'observed is connected or blocked' });
/** How many of something: at least, at most, exactly. */
const count = z.strictObject({
  min: z.int().min(0).optional(),
  max: z.int().min(0).optional(),
  equals: z.int().min(0).optional(),
});

/** The modes a policy check asks for, as its sentences end: " (catalog enforce, orders monitor)". */
const modes = (workloads: Record<string, string> | undefined) =>
  workloads
    ? ` (${Object.entries(workloads)
        .map(([w, m]) => `${w} ${m}`)
        .join(', ')})`
    : '';

export const firewallChecks = {
  policy: checkKind({
    fields: {
      policy: z.union([policyRef, z.literal('none')]).optional(),
      workloads: z.record(workload, mode).optional().meta({ description: 'the mode in force per workload' }),
    },
    describe: (check) =>
      check.policy === 'none'
        ? 'no policy in force'
        : `${check.policy ? `${path.basename(check.policy.replace(/^workspace:/, ''))} in force` : 'the policy in force'}${modes(
            check.workloads,
          )}`,
    async evaluate(check, ctx) {
      const show = await ctx.state.policyShow();
      if (check.policy === 'none')
        return show.source
          ? fail(`${path.basename(show.source.file)} is in force; the step expects no policy`)
          : pass('no policy in force');
      if (check.policy) {
        const want = ctx.resolvePolicy(check.policy);
        if (!show.source) return fail(`no policy is in force; the step expects ${path.basename(want)}`);
        if (
          path.resolve(show.source.file) !== want &&
          path.basename(show.source.file) !== path.basename(want)
        )
          return fail(
            `${path.basename(show.source.file)} is in force; the step expects ${path.basename(want)}`,
          );
      }
      const wrong: string[] = [];
      for (const [w, mode] of Object.entries(check.workloads ?? {})) {
        const found = show.workloads.find((x) => x.name === w);
        if (!found) wrong.push(`${w} is not running`);
        else if (found.mode !== mode) wrong.push(`${w} is in ${found.mode} mode; the step expects ${mode}`);
      }
      if (wrong.length) return fail(wrong.join('; '));
      return pass(
        `${show.source ? path.basename(show.source.file) : 'no policy'} in force${modes(check.workloads)}`,
      );
    },
  }),
  flow: checkKind({
    fields: {
      src: workload,
      dst: workload,
      port,
      observed: reachability.optional(),
      verdict: verdict.optional(),
    },
    describe: (check) =>
      `${check.src} -> ${check.dst}:${check.port}${check.observed ? ` ${check.observed}` : ''}${check.verdict ? ` (expected verdict ${check.verdict})` : ''}`,
    async evaluate(check, ctx) {
      const probe = await ctx.state.matrix();
      const cells = probe.cells.filter(
        (c) =>
          c.src === check.src &&
          c.dst === check.dst &&
          c.port.port === check.port &&
          c.port.protocol === 'tcp',
      );
      if (!cells.length)
        return fail(
          `no probe of ${check.src} -> ${check.dst}:${check.port}: is each of them running with that port?`,
        );
      const flow = `${check.src} -> ${check.dst}:${check.port}`;
      const observedConnected = cells.some((c) => c.observed === 'connected');
      const observed = observedConnected ? 'connected' : 'blocked';
      const seen = cells
        .map((c) => c.observed)
        .filter((o, i, a) => a.indexOf(o) === i)
        .join('/');
      if (cells.some((c) => c.observed === 'error'))
        return fail(
          `cannot probe ${flow}: ${cells.find((c) => c.observed === 'error')?.detail ?? 'the probe failed'}`,
        );
      if (check.observed && observed !== check.observed)
        return fail(
          `${flow} ${seen === 'connected' ? 'connected' : seen}; the step expects it ${check.observed}`,
        );
      const cell = cells[0]!;
      if (check.verdict && cell.verdict !== check.verdict)
        return fail(
          `${flow}: the policy in force gives it ${cell.verdict} (rule ${cell.ruleId}); the step expects ${check.verdict}`,
        );
      return pass(`${flow} ${seen} (expected ${cell.verdict}, rule ${cell.ruleId})`);
    },
  }),
  'blast-radius': checkKind({
    fields: {
      workload: workload.optional(),
      attacker: attacker.optional(),
      workloads: count.optional().meta({ description: 'how many other workloads it reaches (observed)' }),
      databases: count.optional(),
      includes: z.array(workload).optional(),
      excludes: z.array(workload).optional(),
    },
    describe: (check) =>
      `blast radius of ${check.workload ?? `the ${check.attacker} attacker`}: ${[check.workloads && counted(check.workloads, 'workload'), check.databases && counted(check.databases, 'database')].filter(Boolean).join(', ') || 'as expected'}`,
    async evaluate(check, ctx) {
      const source = check.workload ?? (await ctx.state.attackerWorkload(check.attacker!));
      const r = await ctx.state.reach(source);
      const problems: string[] = [];
      if (!inRange(r.reached.length, check.workloads))
        problems.push(`the step expects ${counted(check.workloads, 'workload')}`);
      if (!inRange(r.databases.length, check.databases))
        problems.push(`the step expects ${counted(check.databases, 'database')}`);
      const missing = (check.includes ?? []).filter((w) => !r.reached.includes(w));
      const extra = (check.excludes ?? []).filter((w) => r.reached.includes(w));
      if (missing.length) problems.push(`it does not reach ${missing.join(', ')}`);
      if (extra.length) problems.push(`it reaches ${extra.join(', ')}, which the step expects out of reach`);
      const found = `${source} reaches ${r.reached.length} of ${r.total} workload${r.total === 1 ? '' : 's'} (${r.databases.length} database${r.databases.length === 1 ? '' : 's'})${r.reached.length ? `: ${r.reached.join(', ')}` : ''}`;
      return problems.length ? fail(`${found}; ${problems.join('; ')}`) : pass(found);
    },
  }),
  counter: checkKind({
    fields: {
      rule: z.string().regex(NAME),
      min: z.int().min(1).default(1).meta({ description: 'packets counted since the step started' }),
    },
    describe: (check) =>
      `rule ${check.rule} counted at least ${check.min} packet${check.min === 1 ? '' : 's'}`,
    async evaluate(check, ctx) {
      const now = packetsByRule(await ctx.state.counterReport());
      const moved = packetsSince(now, ctx.stepStart.counters, check.rule);
      if (!(check.rule in now)) return fail(`no rule ${check.rule} in the tables in force`);
      return moved >= check.min
        ? pass(`rule ${check.rule} counted ${moved} packet${moved === 1 ? '' : 's'} since the step started`)
        : fail(
            `rule ${check.rule} counted ${moved} packets since the step started; the step expects at least ${check.min}`,
          );
    },
  }),
  'flow-log': checkKind({
    fields: {
      src: workload.optional(),
      dst: workload.optional(),
      port: port.optional(),
      verdict: verdict.optional(),
      rule: z.string().regex(NAME).optional(),
      within: z
        .number()
        .min(0)
        .max(60)
        .default(0)
        .meta({ description: 'seconds to keep looking for the event (a job that calls every few seconds)' }),
    },
    describe: (check) =>
      `the flow log holds ${[check.src ?? 'any', '->', `${check.dst ?? 'any'}${check.port ? `:${check.port}` : ''}`, check.verdict, check.rule && `by ${check.rule}`].filter(Boolean).join(' ')}`,
    async evaluate(check, ctx) {
      const match = (e: { src: string; dst: string; port?: number; verdict: string; ruleId: string }) =>
        (!check.src || e.src === check.src) &&
        (!check.dst || e.dst === check.dst) &&
        (!check.port || e.port === check.port) &&
        (!check.verdict || e.verdict === check.verdict) &&
        (!check.rule || e.ruleId === check.rule);
      const until = Date.now() + check.within * 1000;
      let events = await ctx.client.call('flows:list', { since: ctx.stepStart.at });
      while (!events.some(match) && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        events = await ctx.client.call('flows:list', { since: ctx.stepStart.at });
      }
      const hit = events.find(match);
      const want = `${check.src ?? 'any'} -> ${check.dst ?? 'any'}${check.port ? `:${check.port}` : ''}${check.verdict ? ` ${check.verdict}` : ''}${check.rule ? ` by ${check.rule}` : ''}`;
      return hit
        ? pass(
            `${hit.time}: ${hit.src} -> ${hit.dst}:${hit.port ?? '?'} ${hit.verdict} by rule ${hit.ruleId}`,
          )
        : fail(
            `the flow log holds no ${want} since the step started (${events.length} other event${events.length === 1 ? '' : 's'})`,
          );
    },
  }),
  'policy-file': checkKind({
    fields: {
      file: z.string().regex(NAME).meta({ description: "a file in the lab's workspace" }),
      matches: policyRef.meta({ description: "its expected matrix must equal this policy's" }),
    },
    describe: (check) =>
      `${check.file} validates and expects the same matrix as ${path.basename(check.matches)}`,
    async evaluate(check, ctx) {
      const file = ctx.workspaceFile(check.file);
      const validation = await ctx.client.call('policy:validate', { file }).catch((e: Error) => {
        if (/no policy file/.test(e.message)) return undefined;
        throw e;
      });
      if (!validation) return fail(`${check.file} is not in the workspace yet`);
      if (!validation.valid)
        return fail(
          `${check.file} does not validate: ${validation.issues.map((i) => `line ${i.line}:${i.column} ${i.message}`).join('; ')}`,
        );
      const [mine, target] = await Promise.all([
        ctx.client.call('policy:evaluate', { file }),
        ctx.client.call('policy:evaluate', { file: ctx.resolvePolicy(check.matches) }),
      ]);
      const key = (f: { src: string; dst: string; port: { port: number; protocol: string } }) =>
        `${f.src} -> ${f.dst}:${f.port.port}/${f.port.protocol}`;
      const want = new Map(target.flows.map((f) => [key(f), f.verdict]));
      const differ = mine.flows.filter((f) => want.get(key(f)) !== f.verdict);
      if (differ.length)
        return fail(
          `${differ
            .slice(0, 4)
            .map(
              (f) =>
                `${key(f)} ${f.verdict} (rule ${f.decision.ruleId}); the step expects ${want.get(key(f)) ?? 'no such flow'}`,
            )
            .join('; ')}${differ.length > 4 ? `; and ${differ.length - 4} more` : ''}`,
        );
      return pass(`${check.file} validates; its ${mine.flows.length} flows match the target's`);
    },
  }),
};
