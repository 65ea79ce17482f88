/**
 * `microlab export kubernetes`: calls `export:kubernetes` like the UI does, then prints the
 * manifests (one YAML stream, each file introduced by a comment) or what was written where.
 */
import path from 'node:path';
import { Option } from '@commander-js/extra-typings';
import type { MethodInput, MethodName, MethodOutput } from '../api/contract';
import type { KubernetesExport } from '../api/export';
import { DEPLOYMENTS } from '../api/vocabulary';
import type { DeploymentName } from '../api/vocabulary';
import { EXPORT_TARGETS } from '../export/types';
import type { ExportTarget } from '../export/types';
import { printJson } from './output';
import type { Cli } from './program';
import { matching, UsageError } from './values';

export interface ExportCommand {
  name: 'export-kubernetes';
  target?: ExportTarget;
  namespace?: string;
  out?: string;
  registry?: string;
  deployment?: DeploymentName;
  policy?: string;
  noPolicy: boolean;
  rejectAsDeny: boolean;
  dropLog: boolean;
  dropMonitor: boolean;
  inClusterOnly: boolean;
  apply: boolean;
  json: boolean;
}

type Call = <M extends MethodName>(method: M, input: MethodInput<M>) => Promise<MethodOutput<M>>;
type Out = NodeJS.WritableStream;

export const NO_APPLY =
  'export kubernetes --apply: not available. MicroLab has no Kubernetes client and applies nothing to a cluster; write the files with --out DIR and apply them with `kubectl apply -R -f DIR` (server-side: add --server-side; validation only: --dry-run=server).\n';

export function exportCommands(cli: Cli): void {
  const group = cli.group(cli.program, 'export', 'the shop and its policy in another format');
  cli
    .command(
      group,
      'kubernetes',
      "the shop (running replicas and versions, or the named shape) and the policy in force (or FILE) as Kubernetes manifests, printed or written under DIR; default target calico (keeps the rules' order, Log, monitor as staged policies); networkpolicy and cilium get the policy's effect per workload. What a target cannot express is refused unless its option accepts the loss: --reject-as-deny, --drop-log, --drop-monitor, --in-cluster-only (\"any\" beyond the shop's workloads). --apply: not available (no cluster client)",
    )
    .addOption(new Option('--to <TARGET>', 'the target (default calico)').choices(EXPORT_TARGETS))
    .option(
      '-n, --namespace <NS>',
      'the namespace (default microlab)',
      matching('--namespace', /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a DNS label (lower case, digits, -)'),
    )
    .option('-o, --out <DIR>', 'write the files under DIR instead of printing them')
    .option('--registry <PREFIX>', 'where a cluster pulls the shop image from')
    .addOption(
      new Option('--deployment <DEPLOYMENT>', 'this shape instead of the running one').choices(DEPLOYMENTS),
    )
    .option('--policy <FILE>', 'this policy instead of the one in force')
    .option('--no-policy', 'the shop alone, without a policy')
    .option('--reject-as-deny', 'accept Reject exported as Deny')
    .option('--drop-log', 'accept Log rules dropped')
    .option('--drop-monitor', 'accept monitor mode dropped')
    .option('--in-cluster-only', 'accept "any" limited to the shop\'s workloads')
    .option('--apply', 'not available: MicroLab has no cluster client')
    .option('--json', 'the export as JSON')
    .action((o) => {
      // --no-policy and --policy set one value; which were given is in the words themselves.
      const words = cli.words;
      const noPolicy = words.includes('--no-policy');
      if (noPolicy && words.some((w) => w === '--policy' || w.startsWith('--policy=')))
        throw new UsageError('--policy and --no-policy exclude each other');
      cli.done(
        {
          name: 'export-kubernetes',
          ...(o.to ? { target: o.to } : {}),
          ...(o.namespace ? { namespace: o.namespace } : {}),
          ...(o.out ? { out: o.out } : {}),
          ...(o.registry ? { registry: o.registry } : {}),
          ...(o.deployment ? { deployment: o.deployment } : {}),
          ...(typeof o.policy === 'string' ? { policy: o.policy } : {}),
          noPolicy,
          rejectAsDeny: Boolean(o.rejectAsDeny),
          dropLog: Boolean(o.dropLog),
          dropMonitor: Boolean(o.dropMonitor),
          inClusterOnly: Boolean(o.inClusterOnly),
          apply: Boolean(o.apply),
          json: Boolean(o.json),
        },
        (c, rt) => runExportCommand(c, rt.call, rt.out, rt.err),
      );
    });
}

export async function runExportCommand(
  command: ExportCommand,
  call: Call,
  out: Out,
  err: Out,
): Promise<number> {
  if (command.apply) {
    err.write(NO_APPLY);
    return 2;
  }
  const result = await call('export:kubernetes', {
    ...(command.target ? { target: command.target } : {}),
    ...(command.namespace ? { namespace: command.namespace } : {}),
    ...(command.registry ? { registry: command.registry } : {}),
    ...(command.deployment ? { deployment: command.deployment } : {}),
    ...(command.policy ? { file: path.resolve(command.policy) } : {}),
    ...(command.noPolicy ? { noPolicy: true } : {}),
    ...(command.rejectAsDeny ? { rejectAsDeny: true } : {}),
    ...(command.dropLog ? { dropLog: true } : {}),
    ...(command.dropMonitor ? { dropMonitor: true } : {}),
    ...(command.inClusterOnly ? { inClusterOnly: true } : {}),
    ...(command.out ? { out: path.resolve(command.out) } : {}),
  });
  if (command.json) printJson(out, result);
  else if (command.out) out.write(formatWritten(result));
  else {
    out.write(formatStream(result));
    err.write(formatNotes(result));
  }
  return 0;
}

/** Every file as one YAML stream (kubectl apply -f - takes it), each introduced by its name. */
export function formatStream(r: KubernetesExport): string {
  return r.files.map((f) => `# ${f.name}\n${f.text}`).join('---\n');
}

function formatNotes(r: KubernetesExport): string {
  return [
    `${r.deployment} for ${r.target} in namespace ${r.namespace}; policy: ${r.policySource}`,
    ...r.notes.map((n) => `  ${n}`),
  ]
    .map((l) => `# ${l}`)
    .join('\n')
    .concat('\n');
}

export function formatWritten(r: KubernetesExport): string {
  return [
    `Exported the ${r.deployment} for ${r.target} (namespace ${r.namespace}; policy: ${r.policySource}):`,
    ...(r.written ?? []).map((f) => `  ${f}`),
    ...r.notes.map((n) => `Note: ${n}`),
    `Apply with: kubectl apply -R -f ${r.written?.length ? path.dirname(path.dirname(r.written[r.written.length - 1]!)) : '.'}`,
  ]
    .join('\n')
    .concat('\n');
}
