/**
 * The apply engine: a declaration (declarations.ts) becomes networks and containers, through
 * dockerode only, and the running state is read back from labels. Operations:
 *   up       create what is missing, start what is stopped, in dependency waves; wait healthy
 *   down     remove the deployment's containers and networks
 *   status   each container: state, health, address, memory
 *   scale    add or remove replicas of a service (they share its DNS name)
 *   upgrade  replace replicas one by one (rolling); the storefront's workload restarts instead
 *
 * A workload starts once the workloads it depends on are running; whether they answer is each
 * workload's own readiness check, which Docker's health check calls.
 *
 * Each concern has its file: running.ts (reading what runs, the Target), status.ts,
 * networks.ts (ports, subnets, networks), containers.ts (one replica's life), lifecycle.ts
 * (up, down), replicas.ts (scale, upgrade). This module is their one entry point.
 */
export { down, up, UP_STEPS } from './lifecycle';
export { checkPort, pickSubnet, takenSubnets } from './networks';
export { scale, upgrade } from './replicas';
export type { PerimeterRouter, Target } from './running';
export {
  containerName,
  currentDeployment,
  deploymentContainers,
  LAYOUT_LABEL,
  NETWORK_LABEL,
  networkName,
  perimeterInForce,
} from './running';
export { callGraph, status } from './status';
