/**
 * The perimeter layout: what microsegmentation replaces, built for contrast. Each segment
 * (a workload's `segment` label) gets its own internal network, and one firewall container,
 * the router, joins them all. Inside a segment, workloads talk directly over their network,
 * and the perimeter never sees it. Between segments, traffic must pass through the router,
 * which enforces the policy.
 *
 * The application does not know: a workload reaches a workload of another segment by its
 * usual name, which resolves (through the container's hosts file) to a *proxy address* that
 * the router holds on the caller's own network. The router translates it to the real
 * address (DNAT), decides, and sends it on from its own address on the callee's network
 * (SNAT). Everything stays inside each bridge's subnet, so Docker's isolation rules for
 * internal networks are never crossed. Addresses are fixed, so the hosts files can be
 * written before the containers start; replicas are not supported in this layout.
 *
 * Pure: subnets in, addresses out.
 */
import { formatCidr, parseCidr } from '../engine/subnets';
import type { Deployment } from './declarations';
import type { Layout } from './types';

/** The layouts, as the firewall (which meets the topology only here and in workload.ts) names them. */
export type { Layout };

export const SEGMENT_LABEL = 'segment';
/** On workload containers: the layout they were started in (flat or perimeter). */
export const LAYOUT_LABEL = 'io.microlab.layout';
/** The router's workload name; it is not part of the shop. */
export const ROUTER = 'perimeter-fw';
/** Host numbers inside each segment's /24. */
const ROUTER_HOST = 2;
const FIRST_WORKLOAD_HOST = 10;
const FIRST_PROXY_HOST = 100;
const LAST_HOST = 254;

export interface SegmentNetwork {
  segment: string;
  /** The declared network's short name (the Docker network is `${project}-${network}`). */
  network: string;
  subnet: string;
  /** The router's own address on this network. */
  router: string;
}

export interface PlacedWorkload {
  name: string;
  segment: string;
  network: string;
  address: string;
  /** Hosts-file entries ("name:address") for every workload of another segment. */
  extraHosts: string[];
}

export interface Proxy {
  /** The workload the proxy address stands for. */
  workload: string;
  /** Where it is reachable from: this segment's network, at `address`. */
  segment: string;
  address: string;
  /** The workload's real address. */
  target: string;
}

export interface PerimeterLayout {
  segments: SegmentNetwork[];
  workloads: PlacedWorkload[];
  proxies: Proxy[];
}

export const segmentNetworkName = (segment: string) => `seg-${segment}`;

/**
 * The same deployment in the perimeter layout: a network per segment instead of the one lab
 * network (the edge network, where the storefront is published, stays).
 */
export function perimeterDeclaration(d: Deployment): Deployment {
  const segments = [...segmentsOfDeployment(d).keys()];
  return {
    ...d,
    layout: 'perimeter',
    networks: [
      ...segments.map((s) => ({ name: segmentNetworkName(s), internal: true })),
      ...d.networks.filter((n) => n.name === 'edge'),
    ],
    workloads: d.workloads.map((w) => ({
      ...w,
      networks: [segmentNetworkName(w.labels[SEGMENT_LABEL]!), ...w.networks.filter((n) => n === 'edge')],
      // one address per workload: no replicas behind a pinned name
      replicas: 1,
      scalable: false,
    })),
  };
}

/** The segments of a deployment, in a stable order, and the workloads of each. */
export function segmentsOfDeployment(d: Deployment): Map<string, string[]> {
  const segments = new Map<string, string[]>();
  for (const w of d.workloads) {
    const segment = w.labels[SEGMENT_LABEL];
    if (!segment) throw new Error(`${w.name} has no ${SEGMENT_LABEL} label: the perimeter cannot place it`);
    segments.set(segment, [...(segments.get(segment) ?? []), w.name]);
  }
  return new Map([...segments.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

function host(subnet: string, n: number): string {
  const { base } = parseCidr(subnet);
  const address = (base + n) >>> 0;
  return formatCidr({ base: address, bits: 32 }).replace(/\/32$/, '');
}

/** `subnets` gives each segment's /24 (by segment name). */
export function perimeterLayout(d: Deployment, subnets: Record<string, string>): PerimeterLayout {
  const bySegment = segmentsOfDeployment(d);
  const segments: SegmentNetwork[] = [];
  const address = new Map<string, string>();
  const segmentOf = new Map<string, string>();
  for (const [segment, names] of bySegment) {
    const subnet = subnets[segment];
    if (!subnet) throw new Error(`no subnet for segment ${segment}`);
    if (parseCidr(subnet).bits !== 24) throw new Error(`segment ${segment} needs a /24, not ${subnet}`);
    if (FIRST_WORKLOAD_HOST + names.length > FIRST_PROXY_HOST)
      throw new Error(`segment ${segment} has too many workloads`);
    segments.push({
      segment,
      network: segmentNetworkName(segment),
      subnet,
      router: host(subnet, ROUTER_HOST),
    });
    names.forEach((name, i) => {
      address.set(name, host(subnet, FIRST_WORKLOAD_HOST + i));
      segmentOf.set(name, segment);
    });
  }

  const proxies: Proxy[] = [];
  for (const s of segments) {
    const outsiders = [...address.keys()].filter((name) => segmentOf.get(name) !== s.segment).sort();
    if (FIRST_PROXY_HOST + outsiders.length > LAST_HOST)
      throw new Error(`too many workloads outside segment ${s.segment}`);
    outsiders.forEach((name, i) =>
      proxies.push({
        workload: name,
        segment: s.segment,
        address: host(s.subnet, FIRST_PROXY_HOST + i),
        target: address.get(name)!,
      }),
    );
  }

  const workloads = d.workloads.map((w) => {
    const segment = segmentOf.get(w.name)!;
    return {
      name: w.name,
      segment,
      network: segmentNetworkName(segment),
      address: address.get(w.name)!,
      extraHosts: proxies.filter((p) => p.segment === segment).map((p) => `${p.workload}:${p.address}`),
    };
  });
  return { segments, workloads, proxies };
}
