/**
 * `microlab export kubernetes`: calls `export:kubernetes` like the UI does, then prints the
 * manifests (one YAML stream, each file introduced by a comment) or what was written where.
 */
import path from 'node:path';
import type { MethodInput, MethodName, MethodOutput } from '../api/contract';
import type { KubernetesExport } from '../api/export';
import type { ExportCommand } from './export-args';

type Call = <M extends MethodName>(method: M, input: MethodInput<M>) => Promise<MethodOutput<M>>;
type Out = NodeJS.WritableStream;

export const NO_APPLY =
  'export kubernetes --apply: not available. MicroLab has no Kubernetes client and applies nothing to a cluster; write the files with --out DIR and apply them with `kubectl apply -R -f DIR` (server-side: add --server-side; validation only: --dry-run=server).\n';

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
  if (command.json) out.write(`${JSON.stringify(result, null, 2)}\n`);
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
