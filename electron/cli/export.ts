/**
 * `microlab export kubernetes`: calls `export:kubernetes` like the UI does, then prints the
 * manifests (one YAML stream, each file introduced by a comment) or what was written where.
 */
import os from 'node:os';
import path from 'node:path';
import { Option } from '@commander-js/extra-typings';
import { parseAllDocuments } from 'yaml';
import type { MethodInput, MethodName, MethodOutput } from '../api/contract';
import type { KubernetesExport } from '../api/export';
import { DEPLOYMENTS } from '../api/vocabulary';
import type { DeploymentName } from '../api/vocabulary';
import { ApiError } from '../errors';
import type { ApplyReport, KubeObject } from '../export/apply';
import { applyObjects, findKubeconfig } from '../export/apply';
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
  dryRun: boolean;
  json: boolean;
}

type Call = <M extends MethodName>(method: M, input: MethodInput<M>) => Promise<MethodOutput<M>>;
type Out = NodeJS.WritableStream;

export function exportCommands(cli: Cli): void {
  const group = cli.group(cli.program, 'export', 'the shop and its policy in another format');
  cli
    .command(
      group,
      'kubernetes',
      "the shop (running replicas and versions, or the named shape) and the policy in force (or FILE) as Kubernetes manifests, printed or written under DIR; default target calico (keeps the rules' order, Log, monitor as staged policies); networkpolicy and cilium get the policy's effect per workload. What a target cannot express is refused unless its option accepts the loss: --reject-as-deny, --drop-log, --drop-monitor, --in-cluster-only (\"any\" beyond the shop's workloads). --apply: to the cluster of your kubeconfig (KUBECONFIG or ~/.kube/config) by server-side apply (field manager microlab), the policy before the workloads; --dry-run: the API server validates every object and saves none",
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
    .option('--apply', "apply to the kubeconfig's cluster (server-side apply, field manager microlab)")
    .option('--dry-run', 'with --apply: the API server validates each object and saves none')
    .option('--json', 'the export as JSON')
    .action((o) => {
      // --no-policy and --policy set one value; which were given is in the words themselves.
      const words = cli.words;
      const noPolicy = words.includes('--no-policy');
      if (noPolicy && words.some((w) => w === '--policy' || w.startsWith('--policy=')))
        throw new UsageError('--policy and --no-policy exclude each other');
      if (o.dryRun && !o.apply)
        throw new UsageError('--dry-run goes with --apply (the API server validates without saving)');
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
          dryRun: Boolean(o.dryRun),
          json: Boolean(o.json),
        },
        (c, rt) => runExportCommand(c, rt.call, rt.out, rt.err),
      );
    });
}

/** Where --apply looks for a kubeconfig (the process's own by default; tests give their own). */
export interface KubeconfigPlace {
  env: NodeJS.ProcessEnv;
  home: string;
}

/** The errors of --apply: each an answer about the user's cluster set-up, exit code 1. */
const APPLY_ERRORS = new Set(['no-kubeconfig', 'kubeconfig-invalid', 'cluster-unreachable', 'apply-failed']);

/**
 * Runs the command: 0 when exported (and applied); 1 when --apply found no usable kubeconfig or
 * cluster, or the API server refused an object (said on `err`, nothing applied before the
 * kubeconfig was read and its server answered). An export refusal throws ExportRefused.
 */
export async function runExportCommand(
  command: ExportCommand,
  call: Call,
  out: Out,
  err: Out,
  place: KubeconfigPlace = { env: process.env, home: os.homedir() },
): Promise<number> {
  try {
    return await exportAndApply(command, call, out, err, place);
  } catch (e) {
    if (!(e instanceof ApiError) || !APPLY_ERRORS.has(e.code)) throw e;
    err.write(`microlab: ${e.message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`);
    return 1;
  }
}

async function exportAndApply(
  command: ExportCommand,
  call: Call,
  out: Out,
  err: Out,
  place: KubeconfigPlace,
): Promise<number> {
  // No kubeconfig: said before anything is exported or sent.
  if (command.apply) findKubeconfig(place.env, place.home);
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
  if (command.apply) {
    const report = await applyObjects(applyOrder(result), { dryRun: command.dryRun, ...place });
    if (command.json) printJson(out, { ...result, applied: report });
    else {
      if (command.out) out.write(formatWritten(result));
      out.write(formatApplied(report));
    }
    return 0;
  }
  if (command.json) printJson(out, result);
  else if (command.out) out.write(formatWritten(result));
  else {
    out.write(formatStream(result));
    err.write(formatNotes(result));
  }
  return 0;
}

/**
 * The objects in the order a cluster should get them: the namespace, then the policy (Calico's
 * tier before its policies), then the shop, so that no workload runs a moment without its policy.
 */
export function applyOrder(r: KubernetesExport): KubeObject[] {
  const rank = (name: string) => (name === 'namespace.yaml' ? 0 : name.startsWith('policy/') ? 1 : 2);
  return [...r.files]
    .sort((a, b) => rank(a.name) - rank(b.name))
    .flatMap((f) => parseAllDocuments(f.text).map((d) => d.toJSON() as KubeObject));
}

export function formatApplied(r: ApplyReport): string {
  return [
    `${r.dryRun ? 'Validated by the API server (dry run, nothing saved)' : 'Applied (server-side, field manager microlab)'}: ${r.applied.length} objects, context ${r.context} at ${r.server}:`,
    ...r.applied.map((o) => `  ${o}`),
  ]
    .join('\n')
    .concat('\n');
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
