/**
 * What a lab reads off the Kubernetes export (issue 18): a policy's NetworkPolicy form, made
 * through the API (`export:kubernetes`, as `microlab export kubernetes --to networkpolicy`
 * makes it) when a check asks, so that the accepted answer is the export's, not the guide's.
 */
import { parseAllDocuments } from 'yaml';
import type { LabClient } from './client';

interface PeerRule {
  from?: { podSelector?: { matchLabels?: Record<string, string> } }[];
}

/**
 * How many workloads the NetworkPolicy form of `policy` (a lab policy reference) lets into
 * `ingressOf`: the distinct peers of the ingress rules of its policy `microlab-<ingressOf>`.
 * The losses NetworkPolicy cannot express (log, monitor, reject, "any" outside the cluster) are
 * accepted, as a reader of the form accepts them. Throws when the export has no policy for the
 * workload (it does not enforce), naming it.
 */
export async function ingressPeerCount(
  ctx: { client: LabClient; resolvePolicy(ref: string): string },
  reading: { policy: string; deployment: 'monolith' | 'microservices'; ingressOf: string },
): Promise<number> {
  const result = await ctx.client.call('export:kubernetes', {
    target: 'networkpolicy',
    deployment: reading.deployment,
    file: ctx.resolvePolicy(reading.policy),
    rejectAsDeny: true,
    dropLog: true,
    dropMonitor: true,
    inClusterOnly: true,
  });
  const name = `microlab-${reading.ingressOf}`;
  const policy = result.files
    .filter((f) => f.name.startsWith('policy/'))
    .flatMap((f) =>
      parseAllDocuments(f.text).map(
        (d) => d.toJSON() as { kind: string; metadata: { name: string }; spec: { ingress?: PeerRule[] } },
      ),
    )
    .find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === name);
  if (!policy)
    throw new Error(
      `the NetworkPolicy form of ${reading.policy} has no policy ${name} (${reading.ingressOf} does not enforce there)`,
    );
  const peers = new Set(
    (policy.spec.ingress ?? []).flatMap((rule) =>
      (rule.from ?? []).map((peer) => JSON.stringify(peer.podSelector?.matchLabels ?? peer)),
    ),
  );
  return peers.size;
}
