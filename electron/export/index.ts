/**
 * `microlab export kubernetes`: the shop and the policy in force as files a cluster takes.
 * Pure: a declaration, a policy and options in; file names and YAML texts out, or
 * ExportRefused naming every construct the target cannot express and the option that accepts
 * each loss. Nothing is dropped silently.
 */
import { stringify } from 'yaml';
import type { Policy } from '../firewall/policy';
import type { Deployment } from '../topology/declarations';
import { calicoManifests, calicoRefusals } from './calico';
import { flatRefusals, flatten } from './effect';
import { ciliumPolicyOf, networkPolicyOf } from './networkpolicy';
import type { Manifest, ShopOptions } from './shop';
import { DEFAULT_NAMESPACE, inventoryOf, shopManifests } from './shop';
import type { ExportAccepts, ExportResult, ExportTarget, Refusal } from './types';
import { ACCEPT_OPTION, ExportRefused } from './types';

export interface ExportOptions extends Partial<ShopOptions> {
  target: ExportTarget;
  accepts?: ExportAccepts;
}

const TARGET_NAME: Record<ExportTarget, string> = {
  calico: 'Calico',
  cilium: 'Cilium',
  networkpolicy: 'Kubernetes NetworkPolicy',
};

/** Several objects as one YAML stream. */
export function yamlStream(objects: Manifest[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}

/**
 * The policy's manifests for a target, or the refusals; `waived`: the refusals that `accepts`
 * waived (the losses the reader should be told about).
 */
export function policyManifests(
  policy: Policy,
  deployment: Deployment,
  target: ExportTarget,
  namespace: string,
  accepts: ExportAccepts = {},
): { manifests: Manifest[]; refusals: Refusal[]; waived: Refusal[] } {
  const inventory = inventoryOf(deployment);
  const refusalsUnder = (a: ExportAccepts) =>
    target === 'calico' ? calicoRefusals(policy, a) : flatRefusals(policy, inventory, a, TARGET_NAME[target]);
  const all = refusalsUnder({});
  const waived = all.filter((r) => accepts[r.option]);
  const refusals = all.filter((r) => !accepts[r.option]);
  if (refusals.length) return { manifests: [], refusals, waived };
  if (target === 'calico')
    return { manifests: calicoManifests(policy, inventory, namespace), refusals, waived };
  const of = target === 'cilium' ? ciliumPolicyOf : networkPolicyOf;
  return {
    manifests: flatten(policy, inventory)
      .filter((e) => e.isolated)
      .map((e) => of(e, namespace)),
    refusals,
    waived,
  };
}

const SHOP_NOTES = [
  'Databases are StatefulSets with a 1Gi PersistentVolumeClaim each (an init container seeds it from the image); the apps and the neighbours are Deployments.',
  "The Secret microlab-db holds a placeholder password, REPLACE-ME: set your own (the export never copies the deployment's).",
];

/** Notes on the choices made and the losses accepted, for the reader of the files. */
function notesFor(policy: Policy | undefined, target: ExportTarget, waived: Refusal[]): string[] {
  if (!policy) return [...SHOP_NOTES, 'No policy: none in force, or none asked for.'];
  return [
    ...SHOP_NOTES,
    target === 'calico'
      ? `Calico: tier microlab, ${policy.rules.length} rules in MicroLab's evaluation order, then the default (${policy.defaultAction}).`
      : `${TARGET_NAME[target]}: the policy's effect over the shop's workloads, one policy per workload that enforces; name lookups to kube-dns allowed explicitly.`,
    ...waived.map(
      (r) => `accepted with ${ACCEPT_OPTION[r.option]}: ${LOSS[r.option]} (${r.where.join(', ')})`,
    ),
  ];
}

const LOSS: Record<keyof ExportAccepts, string> = {
  rejectAsDeny: 'rejects are denies (a refused peer waits for a timeout)',
  dropLog: 'no rule logs its flows',
  dropMonitor: 'workloads in monitor mode have no policy (would-be denials go unreported)',
  inClusterOnly: '"any" means the shop\'s own workloads: traffic to or from outside the cluster is denied',
};

/**
 * The shop (Deployments, StatefulSets, Services, the Secret, the Namespace) and, when a policy is
 * given, its translation for `target`. Throws ExportRefused (code `export-refused`) listing
 * every construct the target cannot express.
 */
export function exportKubernetes(
  deployment: Deployment,
  policy: Policy | undefined,
  options: ExportOptions,
): ExportResult {
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const accepts = options.accepts ?? {};
  const files = shopManifests(deployment, { ...options, namespace }).map(([name, objects]) => ({
    name,
    text: yamlStream(objects),
  }));
  let waived: Refusal[] = [];
  if (policy) {
    const translated = policyManifests(policy, deployment, options.target, namespace, accepts);
    if (translated.refusals.length) throw new ExportRefused(options.target, translated.refusals);
    waived = translated.waived;
    files.push({ name: `policy/${options.target}.yaml`, text: yamlStream(translated.manifests) });
  }
  return { target: options.target, namespace, files, notes: notesFor(policy, options.target, waived) };
}
