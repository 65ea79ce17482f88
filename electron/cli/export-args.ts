/**
 * The export's CLI grammar: `export kubernetes [--to calico|cilium|networkpolicy] ...`.
 * Pure, like args.ts, which hands the command over (with its UsageError, so this file does not
 * import args.ts back).
 */
import { parseArgs } from 'node:util';
import { EXPORT_TARGETS } from '../export/types';
import type { ExportTarget } from '../export/types';

type Fail = (message: string) => never;

export interface ExportCommand {
  name: 'export-kubernetes';
  target?: ExportTarget;
  namespace?: string;
  out?: string;
  registry?: string;
  deployment?: 'monolith' | 'microservices';
  policy?: string;
  noPolicy: boolean;
  rejectAsDeny: boolean;
  dropLog: boolean;
  dropMonitor: boolean;
  inClusterOnly: boolean;
  apply: boolean;
  json: boolean;
}

export const EXPORT_USAGE = `  export kubernetes [--to calico|cilium|networkpolicy] [--namespace NS] [--out DIR]
                    [--registry PREFIX] [--deployment monolith|microservices]
                    [--policy FILE | --no-policy] [--reject-as-deny] [--drop-log]
                    [--drop-monitor] [--in-cluster-only] [--json]
                                  the shop (running replicas and versions, or the named shape) and
                                  the policy in force (or FILE) as Kubernetes manifests, printed or
                                  written under DIR; default target calico (keeps the rules' order,
                                  Log, monitor as staged policies); networkpolicy and cilium get
                                  the policy's effect per workload. What a target cannot express
                                  is refused unless its option accepts the loss: --reject-as-deny,
                                  --drop-log, --drop-monitor, --in-cluster-only ("any" beyond the
                                  shop's workloads). --apply: not available (no cluster client)`;

export function parseExportCommand(rest: string[], fail: Fail): ExportCommand {
  const [what, ...args] = rest;
  if (what !== 'kubernetes')
    fail(
      what
        ? `unknown export ${JSON.stringify(what)} (export kubernetes)`
        : 'export needs a format: kubernetes',
    );
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: false,
      strict: true,
      options: {
        to: { type: 'string' },
        namespace: { type: 'string', short: 'n' },
        out: { type: 'string', short: 'o' },
        registry: { type: 'string' },
        deployment: { type: 'string' },
        policy: { type: 'string' },
        'no-policy': { type: 'boolean' },
        'reject-as-deny': { type: 'boolean' },
        'drop-log': { type: 'boolean' },
        'drop-monitor': { type: 'boolean' },
        'in-cluster-only': { type: 'boolean' },
        apply: { type: 'boolean' },
        json: { type: 'boolean' },
      },
    });
  } catch (err) {
    fail((err as Error).message.replace(/\. To specify a positional.*$/, ''));
  }
  const v = parsed.values;
  if (v.to !== undefined && !(EXPORT_TARGETS as readonly string[]).includes(v.to))
    fail(`--to is ${EXPORT_TARGETS.join(', ')}, not ${JSON.stringify(v.to)}`);
  if (v.namespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v.namespace))
    fail(`--namespace is a DNS label (lower case, digits, -), not ${JSON.stringify(v.namespace)}`);
  if (v.deployment !== undefined && v.deployment !== 'monolith' && v.deployment !== 'microservices')
    fail(`--deployment is monolith or microservices, not ${JSON.stringify(v.deployment)}`);
  if (v.policy !== undefined && v['no-policy']) fail('--policy and --no-policy exclude each other');
  return {
    name: 'export-kubernetes',
    ...(v.to ? { target: v.to as ExportTarget } : {}),
    ...(v.namespace ? { namespace: v.namespace } : {}),
    ...(v.out ? { out: v.out } : {}),
    ...(v.registry ? { registry: v.registry } : {}),
    ...(v.deployment ? { deployment: v.deployment as 'monolith' | 'microservices' } : {}),
    ...(v.policy ? { policy: v.policy } : {}),
    noPolicy: Boolean(v['no-policy']),
    rejectAsDeny: Boolean(v['reject-as-deny']),
    dropLog: Boolean(v['drop-log']),
    dropMonitor: Boolean(v['drop-monitor']),
    inClusterOnly: Boolean(v['in-cluster-only']),
    apply: Boolean(v.apply),
    json: Boolean(v.json),
  };
}
