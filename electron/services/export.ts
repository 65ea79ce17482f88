/**
 * The handler behind `export:kubernetes`: picks the shape (named, or the one running, with its
 * replicas and versions) and the policy (given, or the one in force), hands both to the pure
 * exporter (electron/export) and, when asked, writes its files into a directory.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DeploymentStatus } from '../api/contract';
import type { Handlers } from '../api/dispatch';
import type { KubernetesExport } from '../api/export';
import { ApiError } from '../errors';
import { exportKubernetes } from '../export';
import type { Policy } from '../firewall/policy';
import { parsePolicy } from '../firewall/policy';
import { deployments } from '../topology/declarations';
import { readPolicyFile } from './firewall';

export function exportHandlers(deps: {
  status: () => Promise<DeploymentStatus>;
  policyInForce: () => Promise<Policy | undefined>;
}): Pick<Handlers, 'export:kubernetes'> {
  return {
    'export:kubernetes': async (input): Promise<KubernetesExport> => {
      const running = input.deployment ? undefined : await deps.status();
      const shape = input.deployment ?? running?.deployment;
      if (!shape)
        throw new ApiError(
          'not-deployed',
          'nothing is running to export',
          'Name the shape (`--deployment monolith` or `microservices`), or start one with `microlab up`.',
        );
      let policy: Policy | undefined;
      let policySource = 'none';
      if (input.text !== undefined) {
        policy = parsePolicy(input.text, 'inline');
        policySource = 'inline';
      } else if (input.file !== undefined) {
        const file = path.resolve(input.file);
        policy = parsePolicy(await readPolicyFile(file), file);
        policySource = file;
      } else if (!input.noPolicy) {
        policy = await deps.policyInForce();
        policySource = policy ? 'the policy in force' : 'none (no policy in force)';
      }
      const replicas: Record<string, number> = {};
      const versions: Record<string, string> = {};
      for (const w of running?.workloads ?? []) {
        replicas[w.workload] = (replicas[w.workload] ?? 0) + 1;
        if (w.version) versions[w.workload] = w.version;
      }
      const target = input.target ?? 'calico';
      const result = exportKubernetes(deployments[shape], policy, {
        target,
        ...(input.namespace ? { namespace: input.namespace } : {}),
        ...(input.registry ? { registry: input.registry } : {}),
        ...(running ? { replicas, versions } : {}),
        accepts: {
          rejectAsDeny: input.rejectAsDeny,
          dropLog: input.dropLog,
          dropMonitor: input.dropMonitor,
          inClusterOnly: input.inClusterOnly,
        },
      });
      if (!input.out) return { ...result, deployment: shape, policySource };
      const dir = path.resolve(input.out);
      const written: string[] = [];
      for (const f of result.files) {
        const file = path.join(dir, f.name);
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, f.text);
        written.push(file);
      }
      return { ...result, deployment: shape, policySource, written };
    },
  };
}
