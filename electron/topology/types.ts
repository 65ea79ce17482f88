/**
 * What the topology layer reports: deployments, their workloads (one entry per replica),
 * the call graph, and the load generator's figures. Plain data; the API contract carries
 * these types unchanged.
 */
import type { CapacityResult } from '../../labs/shop/src/loadgen/capacity';
import type {
  EndpointStats as LoadEndpointStats,
  Scenario as LoadScenario,
} from '../../labs/shop/src/loadgen/stats';

/** The shop's two shapes: one app with every module, or a gateway and five services. */
export const DEPLOYMENTS = ['monolith', 'microservices'] as const;
export type DeploymentName = (typeof DEPLOYMENTS)[number];
export type WorkloadHealth = 'healthy' | 'unhealthy' | 'starting' | 'none';
/** What a workload runs: the shop (in a role), Postgres, or a tool box that runs nothing (the jumpbox). */
export type WorkloadKind = 'app' | 'postgres' | 'tool';

/** One container of a deployment (a replica of a workload). */
export interface WorkloadStatus {
  /** The workload (shared by replicas, also its DNS name): "catalog", "catalog-db". */
  workload: string;
  /** Docker's container id, when it started (ISO) and its image id: a container's identity. */
  id?: string;
  startedAt?: string;
  image?: string;
  container: string;
  deployment: DeploymentName;
  kind: WorkloadKind;
  /** Docker's state: running, exited, ... */
  state: string;
  /** Docker's health check; a container that is not running is unhealthy. */
  health: WorkloadHealth;
  /** Its address on the lab network. */
  ip?: string;
  /** Its address on each network, by network name. */
  addresses: Record<string, string>;
  memoryBytes?: number;
  /** SHOP_VERSION of an app container. */
  version?: string;
  /** Selector labels (app, service, tier, segment). */
  labels: Record<string, string>;
  /** What may be done to it: `deploy:scale`, `deploy:upgrade`; `entry` serves the storefront. */
  scalable: boolean;
  upgradable: boolean;
  entry: boolean;
}

/** One call of the shop's call graph: `src` connects to `dst` on `port`. */
export interface Call {
  src: string;
  dst: string;
  port: number;
}

/** flat: every workload on one lab network; perimeter: a network per segment, one router between them. */
export const LAYOUTS = ['flat', 'perimeter'] as const;
export type Layout = (typeof LAYOUTS)[number];

export interface DeploymentStatus {
  project: string;
  /** The deployment running, if any. */
  deployment?: DeploymentName;
  layout?: Layout;
  /** The running deployment's call graph, from its declaration. */
  calls: Call[];
  /** Where the storefront is, e.g. http://127.0.0.1:8480/ */
  storefront?: string;
  /** Every container running and healthy. */
  healthy: boolean;
  workloads: WorkloadStatus[];
  /**
   * The load balancer in front of the monolith's replicas, once it runs more than one (it
   * then holds the storefront's port): not a workload, so it is not in `workloads`.
   */
  balancer?: BalancerStatus;
  networks: { name: string; subnet: string; internal: boolean }[];
}

/** The monolith's load balancer: its container, the workload it spreads requests over, its state and memory (bytes). */
export interface BalancerStatus {
  container: string;
  target: string;
  state: string;
  health: WorkloadHealth;
  memoryBytes?: number;
}

/** Once a second while a load runs: that second's figures. */
export interface LoadUpdate {
  taskId: string;
  elapsed: number;
  duration: number;
  window: LoadEndpointStats[];
}

export interface LoadReport {
  taskId: string;
  deployment: DeploymentName;
  rate: number;
  duration: number;
  mix: Partial<Record<LoadScenario, number>>;
  elapsed: number;
  /** Scenarios started, and those not started because too many were in flight. */
  started: number;
  dropped: number;
  /** Totals per endpoint, then "all". */
  endpoints: LoadEndpointStats[];
  errorSamples: string[];
  /**
   * A capacity search's steps and knee (`load:run` with `capacity`): the rate was raised from
   * `rate` step by step until a step crossed its p95 or error bound (labs/shop/src/loadgen/capacity.ts).
   */
  capacity?: CapacityResult;
}
