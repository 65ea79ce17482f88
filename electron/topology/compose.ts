/**
 * The same declaration as a compose file, for comparison (the benchmark starts both) and for
 * students who know compose. Containers and networks carry the same io.microlab.* labels,
 * so `microlab down` removes what compose made too. Pure: no Docker here.
 */
import { stringify } from 'yaml';
import { labelsFor } from '../engine/labels';
import { shopImageName } from '../engine/shop-image';
import type { Deployment } from './declarations';
import { LEGACY_DB_PASSWORD, STOREFRONT_ALIAS, withPassword } from './declarations';
import { workloadLabels } from './workload';

export interface ComposeOptions {
  project: string;
  /** Host port of the storefront on 127.0.0.1 (0: any free port). */
  port: number;
  /** Subnet of each declared network, by its short name. */
  subnets: Record<string, string>;
}

const duration = (ms: number) => `${ms}ms`;

/**
 * The compose file. The deployment's database password is the image's own (`shop`), and a `$`
 * in a command is doubled (compose would read `$NAME` as one of the host's variables).
 */
export function composeFile(d: Deployment, options: ComposeOptions): string {
  const services: Record<string, unknown> = {};
  const password = (v: string) => withPassword(v, LEGACY_DB_PASSWORD);
  for (const w of d.workloads) {
    services[w.name] = {
      image: shopImageName(),
      ...(w.user ? { user: w.user } : {}),
      ...(w.command ? { command: w.command.map((c) => password(c).replace(/\$/g, '$$$$')) } : {}),
      environment: Object.fromEntries(Object.entries(w.env).map(([k, v]) => [k, password(v)])),
      labels: {
        ...labelsFor(options.project, 'workload', { workload: w.name }),
        ...workloadLabels({ name: w.name, labels: w.labels, ports: w.ports }, d.name),
      },
      networks: Object.fromEntries(
        w.networks.map((n) => [n, { aliases: n === 'edge' ? [STOREFRONT_ALIAS, w.name] : [w.name] }]),
      ),
      ...(w.publish !== undefined ? { ports: [`127.0.0.1:${options.port || ''}:${w.publish}`] } : {}),
      healthcheck: {
        test: w.health.test,
        interval: duration(w.health.intervalMs),
        timeout: duration(w.health.timeoutMs),
        retries: w.health.retries,
        start_period: duration(w.health.startPeriodMs),
      },
      ...(w.dependsOn.length
        ? {
            depends_on: Object.fromEntries(w.dependsOn.map((dep) => [dep, { condition: 'service_healthy' }])),
          }
        : {}),
      mem_limit: `${w.resources.memoryMb}m`,
      memswap_limit: `${w.resources.memoryMb}m`,
      cpus: w.resources.cpus,
      pids_limit: w.resources.pids,
      cap_drop: ['ALL'],
      security_opt: ['no-new-privileges'],
      stop_grace_period: '10s',
      ...(w.replicas > 1 ? { scale: w.replicas } : {}),
    };
  }
  const networks: Record<string, unknown> = {};
  for (const n of d.networks) {
    networks[n.name] = {
      internal: n.internal,
      labels: labelsFor(options.project, 'network'),
      ...(n.internal ? {} : { driver_opts: { 'com.docker.network.bridge.enable_ip_masquerade': 'false' } }),
      ...(options.subnets[n.name] ? { ipam: { config: [{ subnet: options.subnets[n.name] }] } } : {}),
    };
  }
  return `# ${d.name} of the MicroLab shop, generated from electron/topology/declarations.ts\n${stringify({ services, networks })}`;
}
