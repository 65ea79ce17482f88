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

/** The policy's manifests for a target, or the refusals. */
export function policyManifests(
  policy: Policy,
  deployment: Deployment,
  target: ExportTarget,
  namespace: string,
  accepts: ExportAccepts = {},
): { manifests: Manifest[]; refusals: Refusal[] } {
  const inventory = inventoryOf(deployment);
  if (target === 'calico') {
    const refusals = calicoRefusals(policy, accepts);
    return { manifests: refusals.length ? [] : calicoManifests(policy, inventory, namespace), refusals };
  }
  const refusals = flatRefusals(policy, inventory, accepts, TARGET_NAME[target]);
  if (refusals.length) return { manifests: [], refusals };
  const of = target === 'cilium' ? ciliumPolicyOf : networkPolicyOf;
  return {
    manifests: flatten(policy, inventory)
      .filter((e) => e.isolated)
      .map((e) => of(e, namespace)),
    refusals,
  };
}

/** Notes on the losses accepted and the choices made, for the reader of the files. */
function notesFor(policy: Policy, target: ExportTarget, accepts: ExportAccepts): string[] {
  const notes = [
    'Databases are StatefulSets with a 1Gi PersistentVolumeClaim each (an init container seeds it from the image); the apps and the neighbours are Deployments.',
    "The Secret microlab-db holds the database password: replace REPLACE-ME unless the export was given the deployment's own.",
  ];
  if (target === 'calico')
    notes.push(
      `Calico: tier microlab, ${policy.rules.length} rules in MicroLab's evaluation order, then the default (${policy.defaultAction}).`,
    );
  else
    notes.push(
      `${TARGET_NAME[target]}: the policy's effect over the shop's workloads, one policy per workload that enforces; name lookups to kube-dns allowed explicitly.`,
    );
  for (const [key, option] of Object.entries(ACCEPT_OPTION) as [keyof ExportAccepts, string][])
    if (accepts[key]) notes.push(`accepted with ${option}: ${LOSS[key]}`);
  return notes;
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
  if (policy) {
    const { manifests, refusals } = policyManifests(policy, deployment, options.target, namespace, accepts);
    if (refusals.length) throw new ExportRefused(options.target, refusals);
    files.push({ name: `policy/${options.target}.yaml`, text: yamlStream(manifests) });
  }
  return {
    target: options.target,
    namespace,
    files,
    notes: policy
      ? notesFor(policy, options.target, accepts)
      : notesFor(
          { mode: 'off', defaultAction: 'allow', segments: [], rules: [] },
          options.target,
          accepts,
        ).slice(0, 2),
  };
}
