/**
 * A workload as every part of MicroLab sees it: one container of the shop (or of Postgres),
 * found by its labels. The topology layer writes these labels when it starts a container;
 * the firewall, the probes and the status read them back. Nothing reads the app's code.
 *
 * Labels on a workload container (besides io.microlab.project / version):
 *   io.microlab.role        = "workload"
 *   io.microlab.workload    = the workload's name, shared by its replicas ("catalog", "catalog-db")
 *   io.microlab.deployment  = "monolith" | "microservices"
 *   io.microlab.ports       = the ports it serves, "8080/tcp" or "5432/tcp,8080/tcp"
 *   io.microlab.label.<key> = its selector labels, e.g. io.microlab.label.tier = "db"
 *                             (policies select on <key> without the prefix)
 */
import { LABEL } from '../engine/labels';

export const WORKLOAD_LABEL = {
  deployment: 'io.microlab.deployment',
  ports: 'io.microlab.ports',
  /** Prefix of selector labels. */
  selector: 'io.microlab.label.',
} as const;

export type Protocol = 'tcp' | 'udp';

export interface PortSpec {
  port: number;
  protocol: Protocol;
}

export interface Workload {
  /** Shared by replicas; also the DNS name other workloads use. */
  name: string;
  /** Selector labels (app, tier, service, segment, ...). */
  labels: Record<string, string>;
  ports: PortSpec[];
}

/** A running replica of a workload. */
export interface WorkloadInstance extends Workload {
  containerId: string;
  containerName: string;
  /** IPv4 address on each network it is attached to, by network name. */
  addresses: Record<string, string>;
  /**
   * The id of the container that owns its network namespace (the pod's holder), when it
   * joined one; absent when the workload container owns its namespace itself.
   */
  holder?: string;
  /**
   * The engine's DNS resolvers outside the namespace that the workload must reach (IPv4, port
   * 53 udp/tcp): on Podman, aardvark-dns on the gateway of each of its networks. Absent on
   * Docker, whose resolver (127.0.0.11) is inside the namespace.
   */
  resolvers?: string[];
}

export function formatPorts(ports: PortSpec[]): string {
  return ports.map((p) => `${p.port}/${p.protocol}`).join(',');
}

export function parsePorts(text: string | undefined): PortSpec[] {
  if (!text) return [];
  return text.split(',').map((item) => {
    const [port, protocol = 'tcp'] = item.trim().split('/');
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535 || (protocol !== 'tcp' && protocol !== 'udp')) {
      throw new Error(`bad port spec ${JSON.stringify(item)} (want 8080/tcp)`);
    }
    return { port: n, protocol };
  });
}

/** The labels that mark a container as this workload. */
export function workloadLabels(workload: Workload, deployment: string): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL.workload]: workload.name,
    [WORKLOAD_LABEL.deployment]: deployment,
    [WORKLOAD_LABEL.ports]: formatPorts(workload.ports),
  };
  for (const [key, value] of Object.entries(workload.labels)) labels[WORKLOAD_LABEL.selector + key] = value;
  return labels;
}

/** Reads a workload back from a container's labels. */
export function workloadFromLabels(labels: Record<string, string>): Workload | undefined {
  const name = labels[LABEL.workload];
  if (!name) return undefined;
  const selector: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    if (key.startsWith(WORKLOAD_LABEL.selector)) selector[key.slice(WORKLOAD_LABEL.selector.length)] = value;
  }
  return { name, labels: selector, ports: parsePorts(labels[WORKLOAD_LABEL.ports]) };
}

/**
 * What the topology asks the firewall for when it starts a replica as a pod (the narrow
 * interface between them): the pod's network side, everything the app container, joining
 * the holder's namespace, cannot set itself.
 */
export interface NamespaceSpec {
  /** The app container's name; the holder is named `<name>-fw`. */
  name: string;
  workload: Workload;
  deployment: string;
  hostname: string;
  /** The networks to join, the first one at creation; aliases are DNS names on that network. */
  networks: { network: string; aliases: string[]; address?: string }[];
  /** A port of the workload published on 127.0.0.1 (hostPort 0: any free port). */
  publish?: { port: number; hostPort: number };
  extraHosts?: string[];
  /** Labels besides the project's and the workload's (e.g. the layout). */
  labels?: Record<string, string>;
}
