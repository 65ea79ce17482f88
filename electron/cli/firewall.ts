/**
 * The firewall's CLI commands (policy apply|validate|show|clear|explain, flows, counters, probe,
 * blast-radius): each calls the API through the same dispatcher as every other command, then
 * prints a human table or, with --json, the API's answer as it is.
 */
import path from 'node:path';
import { Option } from '@commander-js/extra-typings';
import type { PolicyShow } from '../api/firewall';
import type { CountersReport } from '../firewall/counters';
import type { ApplyReport } from '../firewall/enforcer';
import type { Explanation } from '../firewall/evaluate';
import type { FlowEvent } from '../firewall/flows';
import { formatPortRange } from '../firewall/policy';
import { MODES } from '../firewall/vocabulary';
import type { ProbeReport } from '../probe/matrix';
import type { BlastRadius } from '../probe/blast-radius';
import { plural, printJson, printJsonLine, printResult, table } from './output';
import type { Cli } from './program';
import { decimal, parsePort, parseTime, wholeNumber, workloadName } from './values';

const VERDICT_MARK = { allowed: '✔', audit: '!', denied: '✘', rejected: '✘' } as const;

export function firewallCommands(cli: Cli): void {
  const { program } = cli;
  const policy = cli.group(program, 'policy', 'the segment policy: apply, validate, show, clear, explain');

  cli
    .command(
      policy,
      'apply',
      'validate a policy and put it in force on every workload (an invalid one is reported with positions and changes nothing); open connections it denies are cut, unless --keep-established',
    )
    .argument('<FILE>', 'a policy file (YAML)')
    .addOption(new Option('--mode <MODE>', 'one mode for every workload').choices(MODES))
    .option('--keep-established', 'leave open connections open')
    .option('--json', 'the result as JSON')
    .action((file, o) =>
      cli.done(
        {
          name: 'policy-apply',
          file,
          json: Boolean(o.json),
          keepEstablished: Boolean(o.keepEstablished),
          ...(o.mode ? { mode: o.mode } : {}),
        },
        async (c, rt) => {
          const result = await rt.call('policy:apply', {
            file: path.resolve(c.file),
            ...(c.mode ? { mode: c.mode } : {}),
            ...(c.keepEstablished ? { keepEstablished: true } : {}),
          });
          if (c.json) printJson(rt.out, result);
          else rt.out.write(formatApply(result.name ?? path.basename(c.file), result.mode, result.report));
          for (const t of result.report.tables.filter((t) => t.error))
            rt.err.write(`could not load the table of ${t.container}: ${t.error}\n`);
          return result.report.failed ? 1 : 0;
        },
      ),
    );

  cli
    .command(policy, 'validate', 'check a policy without applying it')
    .argument('<FILE>', 'a policy file (YAML)')
    .option('--json', 'the result as JSON')
    .action((file, o) =>
      cli.done({ name: 'policy-validate', file, json: Boolean(o.json) }, async (c, rt) => {
        const result = await rt.call('policy:validate', { file: path.resolve(c.file) });
        if (c.json) printJson(rt.out, result);
        else if (result.valid) rt.out.write(`${c.file}: valid\n`);
        else for (const i of result.issues) rt.err.write(`${i.file}:${i.line}:${i.column}: ${i.message}\n`);
        return result.valid ? 0 : 1;
      }),
    );

  cli
    .command(policy, 'show', 'the policy in force, its segments and the expected flows')
    .option('--json', 'the policy and flows as JSON')
    .action((o) =>
      cli.done({ name: 'policy-show', json: Boolean(o.json) }, async (c, rt) => {
        const result = await rt.call('policy:show', {});
        printResult(rt.out, c.json, result, formatShow);
        return 0;
      }),
    );

  cli
    .command(policy, 'clear', "remove the policy: every workload's rules go, nothing is enforced")
    .action(() =>
      cli.done({ name: 'policy-clear' }, async (_c, rt) => {
        const report = await rt.call('policy:clear', {});
        rt.out.write(`No policy in force: ${plural(report.tables.length, 'table')} removed or opened.\n`);
        return report.failed ? 1 : 0;
      }),
    );

  cli
    .command(policy, 'explain', 'why the policy gives that flow its verdict')
    .argument('<SRC>', 'the source workload')
    .argument('<DST>', 'the destination workload')
    .argument('<PORT>', 'a port, optionally /tcp or /udp: 5432, 53/udp', parsePort)
    .option('--json', 'the explanation as JSON')
    .action((src, dst, port, o) =>
      cli.done({ name: 'policy-explain', src, dst, ...port, json: Boolean(o.json) }, async (c, rt) => {
        const result = await rt.call('policy:explain', {
          src: c.src,
          dst: c.dst,
          port: c.port,
          protocol: c.protocol,
        });
        printResult(rt.out, c.json, result, formatExplanation);
        return 0;
      }),
    );

  cli
    .command(program, 'flows', 'one line per new connection: verdict and deciding rule')
    .option('-f, --follow', 'keep printing new flows until Ctrl-C')
    .option('--json', 'each flow as JSON (one per line with --follow)')
    .option('--since <TIME>', 'flows from this time on: 2026-01-31T10:00:00Z', parseTime('--since'))
    .option(
      '--limit <N>',
      'at most N flows (default 200, 20 with --follow)',
      wholeNumber('--limit', 1, 100_000),
    )
    .action((o) =>
      cli.done(
        {
          name: 'flows',
          follow: Boolean(o.follow),
          json: Boolean(o.json),
          ...(o.since !== undefined ? { since: o.since } : {}),
          ...(o.limit !== undefined ? { limit: o.limit } : {}),
        },
        async (c, rt) => {
          const history = await rt.call('flows:list', {
            ...(c.since ? { since: c.since } : {}),
            limit: c.limit ?? (c.follow ? 20 : 200),
          });
          const show = (e: FlowEvent) =>
            c.json ? printJsonLine(rt.out, e) : rt.out.write(`${formatFlow(e)}\n`);
          if (!c.follow) {
            if (c.json) printJson(rt.out, history);
            else if (history.length === 0) rt.out.write('No flows yet.\n');
            else history.forEach(show);
            return 0;
          }
          history.forEach(show);
          const dispose = rt.api.on('flows:event', show);
          await rt.call('flows:follow', { enabled: true });
          await new Promise<void>((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          });
          dispose();
          await rt.call('flows:follow', { enabled: false });
          return 0;
        },
      ),
    );

  cli
    .command(program, 'counters', 'packets and bytes per rule')
    .option('--json', 'the counters as JSON')
    .action((o) =>
      cli.done({ name: 'counters', json: Boolean(o.json) }, async (c, rt) => {
        const result = await rt.call('firewall:counters', {});
        printResult(rt.out, c.json, result, formatCounters);
        return 0;
      }),
    );

  cli
    .command(
      program,
      'probe',
      'reachability matrix: expected against observed, mismatches flagged (exit 1 on one)',
    )
    .option('--json', 'the matrix as JSON')
    .option('--timeout <S>', 'seconds a denied probe waits, 1 to 10', wholeNumber('--timeout', 1, 10))
    .action((o) =>
      cli.done(
        { name: 'probe', json: Boolean(o.json), ...(o.timeout !== undefined ? { timeout: o.timeout } : {}) },
        async (c, rt) => {
          const result = await rt.call('probe:run', c.timeout ? { timeoutSeconds: c.timeout } : {});
          printResult(rt.out, c.json, result, formatProbe);
          return result.mismatches ? 1 : 0;
        },
      ),
    );

  cli
    .command(
      program,
      'blast-radius',
      'if WORKLOAD were compromised: every workload and port it reaches, expected and observed from inside it, with the deciding rule (exit 1 on a mismatch)',
    )
    .argument('<WORKLOAD>', 'the workload taken over, e.g. jumpbox', workloadName)
    .option('--json', 'the result as JSON')
    .option(
      '--timeout <S>',
      'seconds a denied probe waits, 0.2 to 10 (default 1)',
      decimal('--timeout', 0.2, 10, { unit: 'seconds' }),
    )
    .action((workload, o) =>
      cli.done(
        {
          name: 'blast-radius',
          workload,
          json: Boolean(o.json),
          ...(o.timeout !== undefined ? { timeout: o.timeout } : {}),
        },
        async (c, rt) => {
          const result = await rt.call('blast:radius', {
            workload: c.workload,
            ...(c.timeout ? { timeoutSeconds: c.timeout } : {}),
          });
          printResult(rt.out, c.json, result, formatBlastRadius);
          return result.mismatches ? 1 : 0;
        },
      ),
    );
}

/** The summary, then one line per reachable workload and port (expected or observed), then the rest in one line. */
export function formatBlastRadius(r: BlastRadius): string {
  const reachable = r.flows.filter((f) => f.expected === 'connected' || f.observed === 'connected');
  const lines = [
    `${r.summary}; expected ${r.expected.reached.length} (${plural(r.expected.databases, 'database')})${r.mismatches ? `; ${r.mismatches} MISMATCH${r.mismatches === 1 ? '' : 'ES'}` : ''}`,
    ...table(
      reachable.map((f) => [
        f.match ? '✔' : '✘',
        `${f.workload}:${f.port.port}`,
        `expected ${f.expected}`,
        `observed ${f.observed}`,
        `${f.ruleId}${f.database ? '  (database)' : ''}`,
      ]),
      { gap: [' ', '  ', ' ', ' '] },
    ),
  ];
  const unreached = [...new Set(r.flows.map((f) => f.workload))].filter(
    (w) => !reachable.some((f) => f.workload === w),
  );
  if (unreached.length) lines.push(`not reached: ${unreached.join(', ')}`);
  lines.push(`(${r.durationMs} ms)`);
  return `${lines.join('\n')}\n`;
}

export function formatApply(name: string, mode: string | undefined, r: ApplyReport): string {
  return (
    `Applied ${name}${mode ? ` (mode ${mode} for every workload)` : ''} to ${r.instances} workload instance${r.instances === 1 ? '' : 's'}: ` +
    `${r.loaded} loaded, ${r.unchanged} unchanged${r.failed ? `, ${r.failed} failed` : ''} in ${Math.round(r.durationMs)} ms.\n` +
    (r.keptEstablished
      ? 'Established connections were kept: those opened before this policy live on until they close.\n'
      : `${r.connectionsCut} established connection${r.connectionsCut === 1 ? '' : 's'} the policy denies ${r.connectionsCut === 1 ? 'was' : 'were'} cut.\n`) +
    r.tables
      .filter((t) => t.cutError)
      .map((t) => `Could not cut connections in ${t.container}: ${t.cutError}\n`)
      .join('')
  );
}

export function formatShow(show: PolicyShow): string {
  const lines: string[] = [];
  if (!show.policy) lines.push('No policy in force: every flow is allowed.');
  else {
    const p = show.policy;
    lines.push(
      show.source
        ? `Policy ${p.name ?? path.basename(show.source.file)} from ${show.source.file}, applied ${show.source.appliedAt}`
        : `Policy ${p.name ?? '(no name)'}, held by the firewall agent (applied by a MicroLab with another state directory, which recorded its file)`,
      `  mode ${p.mode}${show.source?.mode ? ' (set by --mode)' : ''}, default ${p.defaultAction}`,
      'Segments:',
      ...p.segments.map(
        (s) =>
          `  ${s.name}: ${[
            s.selector
              ? `selector ${Object.entries(s.selector)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(',')}`
              : '',
            s.workloads.length ? `workloads ${s.workloads.join(', ')}` : '',
          ]
            .filter(Boolean)
            .join('; ')}${s.mode ? ` (mode ${s.mode})` : ''}`,
      ),
      'Rules (in evaluation order):',
      ...table(
        p.rules.map((r) => [
          r.priority,
          r.id,
          r.action,
          r.ports ? r.ports.map(formatPortRange).join(',') : 'every port',
        ]),
        { indent: '  ', align: ['right'] },
      ),
    );
  }
  lines.push(show.workloads.length ? 'Workloads:' : 'Workloads: none running');
  lines.push(
    ...table(
      show.workloads.map((w) => [
        w.name,
        `x${w.instances}`,
        `mode ${w.mode}`,
        w.segments.length ? w.segments.join(', ') : '(no segment)',
      ]),
      { indent: '  ', gap: [' ', '  ', ' '] },
    ),
  );
  if (show.flows.length) lines.push('Expected flows:');
  lines.push(
    ...table(
      show.flows.map((f) => [
        VERDICT_MARK[f.verdict],
        `${f.src} -> ${f.dst}:${f.port.port}/${f.port.protocol}`,
        f.verdict,
        f.decision.ruleId,
      ]),
      { indent: '  ' },
    ),
  );
  return lines.join('\n') + '\n';
}

export function formatExplanation(e: Explanation): string {
  return `${e.src.name} -> ${e.dst.name}:${e.port.port}/${e.port.protocol}\n${e.text.map((l) => `  ${l}`).join('\n')}\n`;
}

/** One flow on one line, fixed widths: flows are printed as they come, before the next is known. */
export function formatFlow(e: FlowEvent): string {
  const port = e.port !== undefined ? `:${e.port}` : '';
  return `${e.time}  ${VERDICT_MARK[e.verdict]} ${`${e.src} -> ${e.dst}${port}/${e.protocol}`.padEnd(42)} ${e.verdict.padEnd(8)} ${e.ruleId}${e.cut ? '  (open connection cut by a policy change)' : ''}`;
}

export function formatCounters(c: CountersReport): string {
  if (c.workloads.length === 0) return 'No firewall is running (apply a policy first).\n';
  const lines = [
    'Per rule (every instance, both directions):',
    ...table(
      c.rules.map((r) => [r.ruleId, r.action, r.packets, 'packets', r.bytes, 'bytes']),
      { indent: '  ', align: ['left', 'left', 'right', 'left', 'right'] },
    ),
  ];
  for (const w of c.workloads.filter((x) => x.error)) lines.push(`  (${w.sidecar}: ${w.error})`);
  return lines.join('\n') + '\n';
}

export function formatProbe(r: ProbeReport): string {
  const lines = table(
    r.cells.map((c) => [
      c.match ? '✔' : '✘',
      `${c.src} -> ${c.dstContainer}:${c.port.port}/${c.port.protocol}`,
      `expected ${c.expected}`,
      `observed ${c.observed}`,
      `${c.ruleId}${c.match ? '' : '  MISMATCH'}`,
      c.evidence
        ? `dropped in ${c.evidence.seenBy}'s ${c.evidence.direction} after ${c.evidence.afterMs} ms`
        : '',
    ]),
  );
  lines.push(
    `${r.cells.length} flows probed in ${r.durationMs} ms: ${r.mismatches ? `${r.mismatches} mismatch${r.mismatches === 1 ? '' : 'es'}` : 'observed equals expected'}.`,
  );
  return lines.join('\n') + '\n';
}
