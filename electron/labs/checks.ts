/**
 * A step's checks: each reads real state through the API (deployment status, the policy in
 * force, probes from inside workloads' namespaces, counters, the flow log, load reports, the
 * student's workspace and answers) and says what it found, naming the fact. A check that cannot
 * read its state, or does not read it within its timeout, fails and says so: never a pass by
 * default.
 */
import path from 'node:path';
import type { CheckResult, LabCheckKind, LoadReport } from '../api/contract';
import type { LabClient } from './client';
import { execIn } from './client';
import type { LabCheck } from './format';
import type { Snapshot } from './progress';
import { ingressPeerCount } from './export-reading';
import { endpointsOf, packetsByRule, packetsSince } from './state';
import type { StateReader } from './state';

export const DEFAULT_CHECK_TIMEOUT_S = 20;

export interface CheckContext {
  client: LabClient;
  state: StateReader;
  stepStart: Snapshot;
  labStart: Snapshot;
  /** The student's answers to this step's questions. */
  answers: Record<string, string>;
  /** Load runs recorded since the step started, newest last. */
  loads: LoadReport[];
  /** Absolute path of a policy reference (shipped, lab folder or workspace:NAME). */
  resolvePolicy(ref: string): string;
  workspaceFile(name: string): string;
  /** Runs a short load and records it. */
  runLoad(spec: { rate: number; duration: number; mix?: Record<string, number> }): Promise<LoadReport>;
}

type Outcome = { passed: boolean; message: string };
const pass = (message: string): Outcome => ({ passed: true, message });
const fail = (message: string): Outcome => ({ passed: false, message });

function range(c: { min?: number; max?: number; equals?: number } | undefined): string {
  if (!c) return '';
  if (c.equals !== undefined) return `exactly ${c.equals}`;
  if (c.min !== undefined && c.max !== undefined) return `${c.min} to ${c.max}`;
  if (c.min !== undefined) return `at least ${c.min}`;
  return c.max !== undefined ? `at most ${c.max}` : '';
}
/**
 * `range(c)` and the noun, singular when the one number it names is 1: "exactly 1 database",
 * "at least 1 database", "at most 2 workloads", "1 to 3 databases".
 */
function counted(c: { min?: number; max?: number; equals?: number } | undefined, noun: string): string {
  const one =
    c?.equals === 1 ||
    (c?.equals === undefined && c?.min === 1 && c.max === undefined) ||
    (c?.equals === undefined && c?.min === undefined && c?.max === 1);
  return `${range(c)} ${noun}${one ? '' : 's'}`;
}
function inRange(n: number, c: { min?: number; max?: number; equals?: number } | undefined): boolean {
  if (!c) return true;
  return (
    (c.equals === undefined || n === c.equals) &&
    (c.min === undefined || n >= c.min) &&
    (c.max === undefined || n <= c.max)
  );
}
/** An ISO time as the student's clock shows it: "14:03:07". */
const clock = (iso: string) => new Date(iso).toTimeString().slice(0, 8);
const norm = (s: string) => s.trim().toLowerCase().replace(/\s+/g, ' ');

/** A one-line description of what a check verifies (unless the lab gives its own). */
export function describeCheck(check: LabCheck): string {
  if (check.description) return check.description;
  switch (check.kind) {
    case 'deployment':
      return `the ${check.deployment} runs${check.layout ? ` in the ${check.layout} layout` : ''}`;
    case 'replicas':
      return `${check.workload}: ${check.count ?? 'its'} replica${check.count === 1 ? '' : 's'}${check.healthy ? ' healthy' : ''}${check.version ? `, version ${check.version}` : ''}`;
    case 'unchanged':
      return `${check.workloads ? check.workloads.join(', ') : 'every container'}${check.except ? ` except ${check.except.join(', ')}` : ''} untouched since the ${check.since} started`;
    case 'policy':
      return check.policy === 'none'
        ? 'no policy in force'
        : `${check.policy ? `${path.basename(check.policy.replace(/^workspace:/, ''))} in force` : 'the policy in force'}${
            check.workloads
              ? ` (${Object.entries(check.workloads)
                  .map(([w, m]) => `${w} ${m}`)
                  .join(', ')})`
              : ''
          }`;
    case 'flow':
      return `${check.src} -> ${check.dst}:${check.port}${check.observed ? ` ${check.observed}` : ''}${check.verdict ? ` (expected verdict ${check.verdict})` : ''}`;
    case 'blast-radius':
      return `blast radius of ${check.workload ?? `the ${check.attacker} attacker`}: ${[check.workloads && counted(check.workloads, 'workload'), check.databases && counted(check.databases, 'database')].filter(Boolean).join(', ') || 'as expected'}`;
    case 'counter':
      return `rule ${check.rule} counted at least ${check.min} packet${check.min === 1 ? '' : 's'}`;
    case 'flow-log':
      return `the flow log holds ${[check.src ?? 'any', '->', `${check.dst ?? 'any'}${check.port ? `:${check.port}` : ''}`, check.verdict, check.rule && `by ${check.rule}`].filter(Boolean).join(' ')}`;
    case 'load':
      return `a load ran on ${check.endpoints ? check.endpoints.join(', ') : 'every endpoint'}${check.maxErrors !== undefined ? ` with at most ${check.maxErrors} errors` : ''}${check.minErrors !== undefined ? ` and saw at least ${check.minErrors} failed request${check.minErrors === 1 ? '' : 's'}` : ''}${check.maxP95 ? `, p95 under ${check.maxP95} ms` : ''}`;
    case 'policy-file':
      return `${check.file} validates and expects the same matrix as ${path.basename(check.matches)}`;
    case 'quiz':
      return `answer to "${check.question}"`;
  }
}

/** How much earlier than its recorded end less its duration a load may have started, ms. */
const COVER_SLACK_MS = 3000;

async function evaluateCheck(check: LabCheck, ctx: CheckContext): Promise<Outcome> {
  switch (check.kind) {
    case 'deployment': {
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
    }
    case 'replicas': {
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
    }
    case 'unchanged': {
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
    }
    case 'policy': {
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
        `${show.source ? path.basename(show.source.file) : 'no policy'} in force${
          check.workloads
            ? ` (${Object.entries(check.workloads)
                .map(([w, m]) => `${w} ${m}`)
                .join(', ')})`
            : ''
        }`,
      );
    }
    case 'flow': {
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
    }
    case 'blast-radius': {
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
    }
    case 'counter': {
      const now = packetsByRule(await ctx.state.counterReport());
      const moved = packetsSince(now, ctx.stepStart.counters, check.rule);
      if (!(check.rule in now)) return fail(`no rule ${check.rule} in the tables in force`);
      return moved >= check.min
        ? pass(`rule ${check.rule} counted ${moved} packet${moved === 1 ? '' : 's'} since the step started`)
        : fail(
            `rule ${check.rule} counted ${moved} packets since the step started; the step expects at least ${check.min}`,
          );
    }
    case 'flow-log': {
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
    }
    case 'load': {
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
    }
    case 'policy-file': {
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
    }
    case 'quiz': {
      const answer = ctx.answers[check.question];
      if (answer === undefined) return fail(`no answer to "${check.question}" yet`);
      const accepted = [...check.accept];
      if (check.acceptOutput) {
        const r = await execIn(ctx.client, check.acceptOutput.workload, check.acceptOutput.command);
        if (r.exitCode !== 0)
          return fail(
            `cannot read the answer in ${check.acceptOutput.workload}: ${r.output.trim().slice(0, 200)}`,
          );
        accepted.push(r.output.trim());
      }
      if (check.acceptFound) {
        const value = await ctx.state.found(check.acceptFound.workload, check.acceptFound.field);
        if (value === undefined)
          return fail(`cannot read the ${check.acceptFound.field} found in ${check.acceptFound.workload}`);
        accepted.push(value);
      }
      if (check.acceptExport) accepted.push(String(await ingressPeerCount(ctx, check.acceptExport)));
      return accepted.some((a) => norm(a) === norm(answer))
        ? pass(`"${answer}" is right`)
        : fail(`"${answer}" is not the answer to "${check.question}"`);
    }
  }
}

/** Runs one check with its timeout; never throws. */
export async function runCheck(check: LabCheck, index: number, ctx: CheckContext): Promise<CheckResult> {
  const started = Date.now();
  const timeout = (check.timeout ?? DEFAULT_CHECK_TIMEOUT_S) * 1000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    evaluateCheck(check, ctx).catch((err: Error): Outcome =>
      fail(`cannot read the state this check needs: ${err.message}`),
    ),
    new Promise<Outcome>((resolve) => {
      timer = setTimeout(
        () =>
          resolve(fail(`the state was not read within ${timeout / 1000} s (is the engine busy or gone?)`)),
        timeout,
      );
    }),
  ]);
  clearTimeout(timer);
  return {
    id: check.id ?? `${check.kind}-${index + 1}`,
    kind: check.kind as LabCheckKind,
    description: describeCheck(check),
    passed: outcome.passed,
    message: outcome.message,
    durationMs: Date.now() - started,
  };
}
