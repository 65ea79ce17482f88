/**
 * The firewall's services: the handlers behind `policy:*`, `flows:*`, `firewall:counters`
 * and `probe:run`. services/index.ts spreads them in.
 *
 * The policy in force is kept on disk (store.ts) so any MicroLab process knows it, and by the
 * project's firewall agent, which puts it in force on every pod and keeps it there (the only
 * writer of a running pod's table); the kernel keeps the rules. This process loads a new
 * pod's first table (before its app exists) and, behind a perimeter, the router's. A
 * long-running process (the app, `microlab web`) also calls `watch()`, which reports the
 * engine connection.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import type { z } from 'zod';
import type { FirewallEvents, PolicyShow, firewallMethods } from '../api/firewall';
import type { ShippedPolicyInfo } from '../api/firewall';
import { ApiError } from '../errors';
import { labsDir } from '../paths';
import type { EventBus } from '../api/events';
import type { Events } from '../api/contract';
import type { Connection } from '../api/connection';
import { DETACHED } from '../api/connection';
import { SharedFeed } from './feed';
import { readCounters } from '../firewall/counters';
import { emptyApplyReport, Enforcer } from '../firewall/enforcer';
import { followEvents } from '../engine/events';
import { LABEL } from '../engine/labels';
import { agentLine, PolicyInForce } from '../firewall/in-force';
import { openNamespace } from '../firewall/pods';
import type { NamespaceSpec } from '../topology/workload';
import {
  evaluate,
  explain,
  modeOf,
  replicaCounts,
  segmentsOf,
  uniqueWorkloads,
  withMode,
} from '../firewall/evaluate';
import { followFlows, listFlows } from '../firewall/flows';
import { listInstances } from '../firewall/instances';
import type { Mode, Policy, PolicyIssue } from '../firewall/policy';
import { parsePolicy, POLICY_FORMAT, PolicyError } from '../firewall/policy';
import { sizeIssue } from '../yaml-file';
import { NO_POLICY, runProbe } from '../probe/matrix';
import { runBlastRadius } from '../probe/blast-radius';
import { perimeterInForce } from '../topology/apply';
import type { PerimeterLayout } from '../topology/perimeter';
import type { ApplyReport } from '../firewall/enforcer';
import type { AgentState } from '../firewall/agent';
import { perimeterPlan } from '../probe/perimeter-plan';
import { previewPolicy } from '../firewall/preview';
import { findRouter, loadRouter } from '../firewall/perimeter-router';

type Methods = typeof firewallMethods;
export type FirewallHandlers = {
  [M in keyof Methods]: (
    input: z.output<Methods[M]['input']>,
    connection: Connection,
  ) => Promise<Methods[M]['output']>;
};

export interface FirewallService {
  handlers: FirewallHandlers;
  /**
   * Follows the engine connection (`engine:connection` events: lost, restored); the agent
   * keeps the tables current meanwhile. Returns the disposer.
   */
  watch(): Promise<() => void>;
  /**
   * Puts the policy in force (if any) on every running instance now, and waits until it is
   * loaded (the agent's reconcile, or the router's load). The topology calls it right after
   * starting containers, so every peer knows a new replica before anyone is sent to it.
   */
  reconcile(): Promise<void>;
  /**
   * Opens a new pod's network namespace (firewall/holder.ts): closed from its first instant,
   * then its table loaded and confirmed. Returns the holder's id, for the app's network mode.
   */
  openNamespace(spec: NamespaceSpec): Promise<string>;
  /**
   * Before `up` starts `deployment` (`running`: the shape running now): sets aside a policy
   * written for the other shape (firewall/in-force.ts). Returns what to tell the user, if anything.
   */
  setAsideFor(deployment: string, running: string | undefined): Promise<string | undefined>;
  /** Stops following flows and events. */
  close(): void;
}

export async function readPolicyFile(file: string): Promise<string> {
  let info;
  try {
    info = await stat(file);
  } catch {
    throw new ApiError('policy-not-found', `no policy file at ${file}`);
  }
  if (!info.isFile()) throw new ApiError('policy-not-found', `${file} is not a file`);
  const tooLarge = sizeIssue(file, info.size, POLICY_FORMAT);
  if (tooLarge) throw new PolicyError([tooLarge]);
  return readFile(file, 'utf8');
}

export async function listShippedPolicies(dir: string): Promise<ShippedPolicyInfo[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.yaml')).sort();
  return Promise.all(
    names.map(async (name) => {
      const text = await readFile(path.join(dir, name), 'utf8');
      const title = /^#\s*(.+)$/m.exec(text.split('\n')[0] ?? '')?.[1]?.trim() ?? name;
      const deployment = /^(monolith|microservices)-/.exec(name)?.[1] as ShippedPolicyInfo['deployment'];
      return { file: path.join(dir, name), name, ...(deployment ? { deployment } : {}), title, text };
    }),
  );
}

/** The perimeter in force in the project: its running router and its layout. */
async function currentPerimeter(
  docker: Docker,
  project: string,
): Promise<{ routerId: string; routerName: string; layout: PerimeterLayout } | undefined> {
  const [router, layout] = await Promise.all([
    findRouter(docker, project),
    perimeterInForce(docker, project),
  ]);
  if (!router || router.State !== 'running' || !layout) return undefined;
  return { routerId: router.Id, routerName: router.Names[0]?.replace(/^\//, '') ?? router.Id, layout };
}

export function createFirewallService(options: {
  docker: () => Promise<Docker>;
  project: string;
  events: EventBus;
  /** The deployment (shape) running now, if any: recorded with an applied policy. */
  currentShape?: () => Promise<string | undefined>;
}): FirewallService {
  const { project } = options;
  const emit = <E extends keyof FirewallEvents>(event: E, payload: Events[E]) =>
    options.events.emit(event, payload);
  /** Loads new pods' first tables (secure); never reconciles: the agent does. */
  let enforcer: Enforcer | undefined;
  /** The policy this process last put in force (until cleared or handed to the perimeter). */
  let applied: Policy | undefined;
  const flows = new SharedFeed('flows:event', async (emit) =>
    followFlows(await options.docker(), project, emit),
  );
  let stopWatch: (() => void) | undefined;

  const getEnforcer = async () => {
    enforcer ??= new Enforcer(await options.docker(), project);
    return enforcer;
  };

  /** The policy in force has one owner: this process's last apply, the state file, the agent. */
  const inForce = new PolicyInForce({
    project,
    agent: agentLine(options.docker, project),
    held: () => applied,
  });

  /**
   * Puts a policy in force where this project enforces it: hands it to the agent, which
   * loads it into each pod's namespace and reports; in the perimeter layout, also at the
   * router between segments (this process loads it). `state.policy` null: none, tables open.
   */
  const enforce = async (state: AgentState): Promise<ApplyReport> => {
    const policy = state.policy ?? NO_POLICY;
    const handed = await inForce.handOver(state);
    const docker = await options.docker();
    const perimeter = await currentPerimeter(docker, project);
    if (!perimeter) return handed ?? emptyApplyReport(policy, state.keepEstablished);
    return loadRouter(
      docker,
      perimeter.routerId,
      policy,
      perimeter.layout,
      await listInstances(docker, project),
      { keepEstablished: state.keepEstablished },
    );
  };

  const handlers: FirewallHandlers = {
    'policy:apply': async ({ file, text, mode, keepEstablished }) => {
      const source = file ? path.resolve(file) : 'inline';
      const yaml = text ?? (await readPolicyFile(source));
      // Throws with every issue and its position: nothing below runs, the previous policy stays.
      const policy = withMode(parsePolicy(yaml, file ? source : 'inline'), mode);
      applied = policy;
      const report = await enforce({ policy, keepEstablished: keepEstablished ?? false });
      const shape = await options.currentShape?.();
      await inForce.record({
        text: yaml,
        file: source,
        ...(mode ? { mode } : {}),
        ...(keepEstablished ? { keepEstablished } : {}),
        appliedAt: new Date().toISOString(),
        ...(shape ? { deployment: shape } : {}),
      });
      return {
        ...(policy.name ? { name: policy.name } : {}),
        file: source,
        ...(mode ? { mode } : {}),
        ...(keepEstablished ? { keepEstablished } : {}),
        report,
      };
    },
    'policy:clear': async () => {
      applied = undefined;
      const report = await enforce({ policy: null, keepEstablished: false });
      await inForce.forget();
      return report;
    },
    'policy:list': async () => listShippedPolicies(path.join(labsDir(), 'policies')),
    'policy:validate': async ({ file, text }) => {
      const source = file ? path.resolve(file) : 'inline';
      try {
        parsePolicy(text ?? (await readPolicyFile(source)), source);
        return { valid: true, issues: [] };
      } catch (err) {
        if (err instanceof PolicyError) return { valid: false, issues: err.issues as PolicyIssue[] };
        throw err;
      }
    },
    'policy:show': async (): Promise<PolicyShow> => {
      const [stored, instances] = await Promise.all([
        inForce.source(),
        listInstances(await options.docker(), project),
      ]);
      const policy = await inForce.read();
      const workloads = uniqueWorkloads(instances);
      const effective: Policy = policy ?? { mode: 'off', defaultAction: 'allow', segments: [], rules: [] };
      return {
        ...(stored ? { source: stored } : {}),
        ...(policy ? { policy } : {}),
        workloads: workloads.map((w) => ({
          name: w.name,
          segments: segmentsOf(effective, w),
          mode: modeOf(effective, w) as Mode,
          instances: instances.filter((i) => i.name === w.name).length,
        })),
        flows: evaluate(effective, instances),
      };
    },
    'policy:evaluate': async ({ file, text, mode }) => {
      const source = file ? path.resolve(file) : 'inline';
      const candidate = withMode(parsePolicy(text ?? (await readPolicyFile(source)), source), mode);
      const docker = await options.docker();
      const [instances, perimeter, policy] = await Promise.all([
        listInstances(docker, project),
        currentPerimeter(docker, project),
        inForce.read(),
      ]);
      return previewPolicy(candidate, policy ?? NO_POLICY, instances, perimeter?.layout);
    },
    'policy:explain': async ({ src, dst, port, protocol }) => {
      const policy = await inForce.read();
      if (!policy)
        throw new ApiError('no-policy', 'no policy is in force', 'Apply one: `microlab policy apply FILE`.');
      const instances = await listInstances(await options.docker(), project);
      const workloads = uniqueWorkloads(instances);
      const find = (name: string) => {
        const w = workloads.find((x) => x.name === name);
        if (!w)
          throw new ApiError(
            'unknown-workload',
            `no running workload "${name}"`,
            workloads.length ? `Running: ${workloads.map((x) => x.name).join(', ')}.` : 'Nothing is running.',
          );
        return w;
      };
      return explain(
        policy,
        find(src),
        find(dst),
        { port, protocol: protocol ?? 'tcp' },
        src === dst ? { replicas: replicaCounts(instances).get(src) ?? 0 } : {},
      );
    },
    'flows:list': async (query) => listFlows(await options.docker(), project, query),
    // Each connection follows for itself, until it stops or goes (feed.ts).
    'flows:follow': async ({ enabled }, connection) => {
      if (enabled) await flows.subscribe(connection);
      else flows.unsubscribe(connection);
      return { following: flows.has(connection) };
    },
    'firewall:counters': async () => {
      const docker = await options.docker();
      const perimeter = await currentPerimeter(docker, project);
      return readCounters(
        docker,
        project,
        perimeter ? { id: perimeter.routerId, name: perimeter.routerName } : undefined,
      );
    },
    'probe:run': async ({ timeoutSeconds }) => {
      const docker = await options.docker();
      // An empty matrix is no evidence: "observed equals expected" over nothing would say so.
      if ((await listInstances(docker, project)).length === 0)
        throw new ApiError(
          'not-deployed',
          'nothing is running to probe',
          'Start a deployment first: `microlab up monolith` or `microlab up microservices`.',
        );
      const perimeter = await currentPerimeter(docker, project);
      return runProbe(docker, project, await inForce.read(), {
        timeoutSeconds,
        ...(perimeter ? { plan: perimeterPlan(perimeter.layout) } : {}),
      });
    },
    'blast:radius': async ({ workload, timeoutSeconds }) => {
      const docker = await options.docker();
      const workloads = uniqueWorkloads(await listInstances(docker, project));
      if (!workloads.some((w) => w.name === workload))
        throw new ApiError(
          'unknown-workload',
          `no running workload "${workload}"`,
          workloads.length ? `Running: ${workloads.map((x) => x.name).join(', ')}.` : 'Nothing is running.',
        );
      const perimeter = await currentPerimeter(docker, project);
      return runBlastRadius(docker, project, await inForce.read(), workload, {
        workloads,
        ...(timeoutSeconds ? { timeoutSeconds } : {}),
        ...(perimeter ? { plan: perimeterPlan(perimeter.layout) } : {}),
      });
    },
  };

  return {
    handlers,
    setAsideFor: (deployment, running) =>
      inForce.setAsideFor(deployment, running, () => handlers['policy:clear']({}, DETACHED)),
    openNamespace: async (spec) => {
      const docker = await options.docker();
      return openNamespace(
        docker,
        project,
        await getEnforcer(),
        spec,
        await inForce.read(),
        await inForce.agentState(),
      );
    },
    reconcile: async () => {
      const policy = await inForce.read();
      if (!policy) return;
      emit(
        'firewall:reconciled',
        await enforce({ policy, keepEstablished: await inForce.keepsEstablished() }),
      );
    },
    watch: async () => {
      stopWatch ??= followEvents(await options.docker(), {
        filters: { type: ['container'], event: ['start'], label: [`${LABEL.project}=${project}`] },
        onConnection: (change) => emit('engine:connection', change),
        onEvent: () => undefined,
      });
      return () => {
        stopWatch?.();
        stopWatch = undefined;
      };
    },
    close: () => {
      enforcer?.close();
      flows.close();
      stopWatch?.();
      stopWatch = undefined;
    },
  };
}
