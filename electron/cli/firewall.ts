/**
 * The firewall's CLI commands: each calls the API through the same dispatcher as every other
 * command, then prints a human table or, with --json, the API's answer as it is.
 */
import path from 'node:path';
import type { MethodInput, MethodName, MethodOutput } from '../api/contract';
import type { PolicyShow } from '../api/firewall';
import type { CountersReport } from '../firewall/counters';
import type { ApplyReport } from '../firewall/enforcer';
import type { Explanation } from '../firewall/evaluate';
import type { FlowEvent } from '../firewall/flows';
import { formatPortRange } from '../firewall/policy';
import type { ProbeReport } from '../probe/matrix';
import type { BlastRadius } from '../probe/blast-radius';
import type { LocalApi } from '../api/local';
import type { FirewallCommand } from './firewall-args';

type Call = <M extends MethodName>(method: M, input: MethodInput<M>) => Promise<MethodOutput<M>>;
type Out = NodeJS.WritableStream;

const VERDICT_MARK = { allowed: '✔', audit: '!', denied: '✘', rejected: '✘' } as const;

export async function runFirewallCommand(
  command: FirewallCommand,
  call: Call,
  on: LocalApi['on'],
  out: Out,
  err: Out,
): Promise<number> {
  const print = (value: unknown) => out.write(`${JSON.stringify(value, null, 2)}\n`);
  switch (command.name) {
    case 'policy-apply': {
      const result = await call('policy:apply', {
        file: path.resolve(command.file),
        ...(command.mode ? { mode: command.mode } : {}),
        ...(command.keepEstablished ? { keepEstablished: true } : {}),
      });
      if (command.json) print(result);
      else out.write(formatApply(result.name ?? path.basename(command.file), result.mode, result.report));
      for (const t of result.report.tables.filter((t) => t.error))
        err.write(`could not load the table of ${t.container}: ${t.error}\n`);
      return result.report.failed ? 1 : 0;
    }
    case 'policy-validate': {
      const result = await call('policy:validate', { file: path.resolve(command.file) });
      if (command.json) print(result);
      else if (result.valid) out.write(`${command.file}: valid\n`);
      else for (const i of result.issues) err.write(`${i.file}:${i.line}:${i.column}: ${i.message}\n`);
      return result.valid ? 0 : 1;
    }
    case 'policy-clear': {
      const report = await call('policy:clear', {});
      out.write(
        `No policy in force: ${report.tables.length} table${report.tables.length === 1 ? '' : 's'} removed or opened.\n`,
      );
      return report.failed ? 1 : 0;
    }
    case 'policy-show': {
      const result = await call('policy:show', {});
      if (command.json) print(result);
      else out.write(formatShow(result));
      return 0;
    }
    case 'policy-explain': {
      const result = await call('policy:explain', {
        src: command.src,
        dst: command.dst,
        port: command.port,
        protocol: command.protocol,
      });
      if (command.json) print(result);
      else out.write(formatExplanation(result));
      return 0;
    }
    case 'flows': {
      const history = await call('flows:list', {
        ...(command.since ? { since: command.since } : {}),
        limit: command.limit ?? (command.follow ? 20 : 200),
      });
      const show = (e: FlowEvent) =>
        out.write(command.json ? `${JSON.stringify(e)}\n` : `${formatFlow(e)}\n`);
      if (!command.follow) {
        if (command.json) print(history);
        else if (history.length === 0) out.write('No flows yet.\n');
        else history.forEach(show);
        return 0;
      }
      history.forEach(show);
      const dispose = on('flows:event', show);
      await call('flows:follow', { enabled: true });
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      dispose();
      await call('flows:follow', { enabled: false });
      return 0;
    }
    case 'counters': {
      const result = await call('firewall:counters', {});
      if (command.json) print(result);
      else out.write(formatCounters(result));
      return 0;
    }
    case 'probe': {
      const result = await call('probe:run', command.timeout ? { timeoutSeconds: command.timeout } : {});
      if (command.json) print(result);
      else out.write(formatProbe(result));
      return result.mismatches ? 1 : 0;
    }
    case 'blast-radius': {
      const result = await call('blast:radius', {
        workload: command.workload,
        ...(command.timeout ? { timeoutSeconds: command.timeout } : {}),
      });
      if (command.json) print(result);
      else out.write(formatBlastRadius(result));
      return result.mismatches ? 1 : 0;
    }
  }
}

/** The summary, then one line per reachable workload and port (expected or observed), then the rest in one line. */
export function formatBlastRadius(r: BlastRadius): string {
  const reachable = r.flows.filter((f) => f.expected === 'connected' || f.observed === 'connected');
  const width = Math.max(8, ...reachable.map((f) => `${f.workload}:${f.port.port}`.length));
  const lines = [
    `${r.summary}; expected ${r.expected.reached.length} (${r.expected.databases} database${r.expected.databases === 1 ? '' : 's'})${r.mismatches ? `; ${r.mismatches} MISMATCH${r.mismatches === 1 ? '' : 'ES'}` : ''}`,
    ...reachable.map(
      (f) =>
        `${f.match ? '✔' : '✘'} ${`${f.workload}:${f.port.port}`.padEnd(width)}  expected ${f.expected.padEnd(9)} observed ${f.observed.padEnd(9)} ${f.ruleId}${f.database ? '  (database)' : ''}`,
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
      ...p.rules.map(
        (r) =>
          `  ${String(r.priority).padStart(5)} ${r.id.padEnd(24)} ${r.action.padEnd(6)} ${r.ports ? r.ports.map(formatPortRange).join(',') : 'every port'}`,
      ),
    );
  }
  lines.push(show.workloads.length ? 'Workloads:' : 'Workloads: none running');
  for (const w of show.workloads)
    lines.push(
      `  ${w.name.padEnd(20)} x${w.instances}  mode ${w.mode.padEnd(8)} ${w.segments.length ? w.segments.join(', ') : '(no segment)'}`,
    );
  if (show.flows.length) lines.push('Expected flows:');
  for (const f of show.flows)
    lines.push(
      `  ${VERDICT_MARK[f.verdict]} ${`${f.src} -> ${f.dst}:${f.port.port}/${f.port.protocol}`.padEnd(40)} ${f.verdict.padEnd(8)} ${f.decision.ruleId}`,
    );
  return lines.join('\n') + '\n';
}

export function formatExplanation(e: Explanation): string {
  return `${e.src.name} -> ${e.dst.name}:${e.port.port}/${e.port.protocol}\n${e.text.map((l) => `  ${l}`).join('\n')}\n`;
}

export function formatFlow(e: FlowEvent): string {
  const port = e.port !== undefined ? `:${e.port}` : '';
  return `${e.time}  ${VERDICT_MARK[e.verdict]} ${`${e.src} -> ${e.dst}${port}/${e.protocol}`.padEnd(42)} ${e.verdict.padEnd(8)} ${e.ruleId}${e.cut ? '  (open connection cut by a policy change)' : ''}`;
}

export function formatCounters(c: CountersReport): string {
  if (c.workloads.length === 0) return 'No firewall is running (apply a policy first).\n';
  const lines = ['Per rule (every instance, both directions):'];
  for (const r of c.rules)
    lines.push(
      `  ${r.ruleId.padEnd(24)} ${r.action.padEnd(14)} ${String(r.packets).padStart(10)} packets ${String(r.bytes).padStart(12)} bytes`,
    );
  for (const w of c.workloads.filter((x) => x.error)) lines.push(`  (${w.sidecar}: ${w.error})`);
  return lines.join('\n') + '\n';
}

export function formatProbe(r: ProbeReport): string {
  const lines = r.cells.map(
    (c) =>
      `${c.match ? '✔' : '✘'} ${`${c.src} -> ${c.dstContainer}:${c.port.port}/${c.port.protocol}`.padEnd(48)} expected ${c.expected.padEnd(9)} observed ${c.observed.padEnd(9)} ${c.ruleId}${c.match ? '' : '  MISMATCH'}`,
  );
  lines.push(
    `${r.cells.length} flows probed in ${r.durationMs} ms: ${r.mismatches ? `${r.mismatches} mismatch${r.mismatches === 1 ? '' : 'es'}` : 'observed equals expected'}.`,
  );
  return lines.join('\n') + '\n';
}
