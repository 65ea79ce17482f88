/**
 * Bringing the shop back to a recorded state: the deployment and layout, each workload's
 * replicas and version, and the policy in force. Only what differs is changed (a deployment
 * that already runs in the right shape is not restarted), and nothing else is touched.
 */
import { readFile } from 'node:fs/promises';
import type { LabClient } from './client';
import { runTask } from './client';
import type { Snapshot } from './progress';
import type { DeploymentName, Layout, Mode } from '../api/vocabulary';

/** The state a lab's setup describes: a fresh deployment (one replica each, version 1) and a policy. */
export interface Target {
  deployment: DeploymentName;
  layout: Layout;
  /** Replicas per workload; absent workloads: 1. */
  replicas: Record<string, number>;
  /** Version per app workload; absent: "1". */
  versions: Record<string, string>;
  /** The policy to put in force (absent: none). `file` is used when its text still matches. */
  policy?: { text: string; file: string; mode?: Mode };
  /** The storefront's port when the deployment must be started (absent: the default; 0: any free). */
  port?: number;
}

export function targetOf(snapshot: Snapshot): Target | undefined {
  if (!snapshot.deployment) return undefined;
  return {
    deployment: snapshot.deployment,
    layout: snapshot.layout ?? 'flat',
    replicas: snapshot.replicas,
    versions: snapshot.versions,
    ...(snapshot.policy ? { policy: snapshot.policy } : {}),
  };
}

/** Brings the state to `target`; returns what it changed, one phrase each. */
export async function restore(
  client: LabClient,
  target: Target,
  progress: (message: string) => void = () => {},
  /** How long an unhealthy shop gets to heal once the step's policy is back (default 20 s). */
  healthWaitMs = HEALTH_WAIT_MS,
): Promise<string[]> {
  const changed: string[] = [];
  let status = await client.call('deploy:status', {});
  const sameShape = status.deployment === target.deployment && (status.layout ?? 'flat') === target.layout;
  if (sameShape && !status.healthy && target.policy) {
    // A policy can be what makes a workload unhealthy (its health check calls a peer the
    // policy cuts off): a restart under it would not help. Put the step's policy back first.
    progress('applying the policy');
    await applyTarget(client, target.policy);
    changed.push('applied the policy of that moment');
    status = await healthyWithin(client, healthWaitMs);
  }
  const shapeDiffers = !sameShape || !status.healthy;
  if (shapeDiffers) {
    progress(`starting the ${target.deployment}`);
    await runTask(client, 'deploy:up', {
      deployment: target.deployment,
      ...(target.layout === 'perimeter' ? { layout: 'perimeter' as const } : {}),
      ...(target.port !== undefined ? { port: target.port } : {}),
    });
    changed.push(
      `started the ${target.deployment}${target.layout === 'perimeter' ? ' behind the perimeter' : ''}`,
    );
    status = await client.call('deploy:status', {});
  }
  const counts = new Map<string, number>();
  for (const w of status.workloads) counts.set(w.workload, (counts.get(w.workload) ?? 0) + 1);
  for (const w of status.workloads.filter(
    (x, i, all) => all.findIndex((y) => y.workload === x.workload) === i,
  )) {
    const want = target.replicas[w.workload] ?? 1;
    if (w.scalable && counts.get(w.workload) !== want) {
      progress(`scaling ${w.workload} to ${want}`);
      await runTask(client, 'deploy:scale', { service: w.workload, replicas: want });
      changed.push(`scaled ${w.workload} to ${want}`);
    }
  }
  status = await client.call('deploy:status', {});
  for (const name of new Set(
    status.workloads.filter((w) => w.upgradable && w.version).map((w) => w.workload),
  )) {
    const want = target.versions[name] ?? '1';
    if (status.workloads.some((w) => w.workload === name && w.version !== want)) {
      progress(`bringing ${name} to version ${want}`);
      // A recorded version ran before: no watch after each replica.
      await runTask(client, 'deploy:upgrade', { service: name, version: Number(want), watch: 0 });
      changed.push(`${name} back to version ${want}`);
    }
  }
  const show = await client.call('policy:show', {});
  const current = show.source;
  const same =
    current && target.policy && current.text === target.policy.text && current.mode === target.policy.mode;
  if (!target.policy && current) {
    progress('removing the policy');
    await client.call('policy:clear', {});
    changed.push('removed the policy');
  } else if (target.policy && (!same || shapeDiffers)) {
    progress('applying the policy');
    await applyTarget(client, target.policy);
    if (!changed.includes('applied the policy of that moment'))
      changed.push('applied the policy of that moment');
  }
  return changed;
}

/** How long a deployment gets to turn healthy once the policy that broke it is gone (checks every 2 s). */
const HEALTH_WAIT_MS = 20_000;

async function applyTarget(client: LabClient, policy: NonNullable<Target['policy']>): Promise<void> {
  const { file, text, mode } = policy;
  const onDisk = file !== 'inline' ? await readFile(file, 'utf8').catch(() => undefined) : undefined;
  await client.call('policy:apply', {
    ...(onDisk === text ? { file } : { text }),
    ...(mode ? { mode } : {}),
  });
}

/** The deployment's status once it is healthy, or after `ms` as it is then. */
async function healthyWithin(client: LabClient, ms: number) {
  const until = Date.now() + ms;
  let status = await client.call('deploy:status', {});
  while (!status.healthy && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    status = await client.call('deploy:status', {});
  }
  return status;
}
