/**
 * The subnet pool MicroLab takes its lab networks from, and whether it collides with a
 * route the host already has (a LAN, a VPN, another engine's networks). A collision makes
 * lab traffic go to the wrong place, so the doctor reports it before a lab starts.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Cidr {
  base: number;
  bits: number;
}

/** From the range reserved for network tests (RFC 2544); the engine's own pool takes 198.18.0.0/16 on our machines. */
export const DEFAULT_POOL = '198.19.0.0/16';

export function subnetPool(env: NodeJS.ProcessEnv = process.env): string {
  return env.MICROLAB_SUBNET_POOL ?? DEFAULT_POOL;
}

export function parseCidr(text: string): Cidr {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text.trim());
  const octets = match?.slice(1, 5).map(Number);
  const bits = Number(match?.[5]);
  if (!octets || octets.some((o) => o > 255) || bits > 32)
    throw new Error(`${JSON.stringify(text)} is not an IPv4 CIDR like 198.19.0.0/16`);
  const address = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  return { base: (address & mask(bits)) >>> 0, bits };
}

function mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

export function formatCidr({ base, bits }: Cidr): string {
  return `${base >>> 24}.${(base >>> 16) & 255}.${(base >>> 8) & 255}.${base & 255}/${bits}`;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const bits = Math.min(a.bits, b.bits);
  return ((a.base ^ b.base) & mask(bits)) >>> 0 === 0;
}

function netmaskBits(netmask: string): number {
  return netmask
    .split('.')
    .reduce((n, octet) => n + (Number(octet) >>> 0).toString(2).replace(/0/g, '').length, 0);
}

/** The host's IPv4 networks: its interfaces' subnets and, on Linux, its routing table (no default route). */
export function hostRoutes(): { cidr: string; via: string }[] {
  const routes: { cidr: string; via: string }[] = [];
  for (const [name, addresses] of Object.entries(os.networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (a.family !== 'IPv4' || a.internal) continue;
      routes.push({
        cidr: formatCidr(parseCidr(`${a.address}/${netmaskBits(a.netmask)}`)),
        via: `interface ${name}`,
      });
    }
  }
  if (process.platform === 'linux') {
    let table = '';
    try {
      table = readFileSync('/proc/net/route', 'utf8');
    } catch {
      /* no /proc: interfaces only */
    }
    routes.push(...parseProcRoutes(table));
  }
  const seen = new Set<string>();
  return routes.filter((r) => !seen.has(r.cidr) && seen.add(r.cidr));
}

/** /proc/net/route holds destination and mask as little-endian hex. */
export function parseProcRoutes(table: string): { cidr: string; via: string }[] {
  const hexToAddress = (hex: string) => {
    const n = parseInt(hex, 16);
    return `${n & 255}.${(n >>> 8) & 255}.${(n >>> 16) & 255}.${n >>> 24}`;
  };
  return table
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length >= 8 && cols[1] !== '00000000')
    .map((cols) => ({
      cidr: formatCidr(parseCidr(`${hexToAddress(cols[1]!)}/${netmaskBits(hexToAddress(cols[7]!))}`)),
      via: `route on ${cols[0]}`,
    }));
}

/** The routes from `routes` that overlap the pool, leaving out `ours` (networks MicroLab made from it). */
export function conflicts(
  pool: string,
  routes: { cidr: string; via: string }[],
  ours: string[] = [],
): { cidr: string; via: string }[] {
  const poolCidr = parseCidr(pool);
  const own = new Set(ours.map((c) => formatCidr(parseCidr(c))));
  return routes.filter((r) => !own.has(r.cidr) && overlaps(poolCidr, parseCidr(r.cidr)));
}

/** An IPv4 range in use on this host, and what uses it ("Docker network x", "route on eth0"). */
export interface TakenRange {
  cidr: string;
  by: string;
}

/**
 * The one subnet planner `up` and the doctor share: what a pool has free for lab networks
 * (/24s, or the pool itself when it is smaller), the first free one, what takes the rest,
 * and, when nothing is free, a range that is free on this host to suggest instead.
 */
export interface SubnetPlan {
  pool: string;
  /** How many networks the pool holds, and how many of them are free. */
  size: number;
  free: number;
  /** The first free network (CIDR), if any. */
  next?: string;
  /** What overlaps the pool. */
  taken: TakenRange[];
  /** When the pool has nothing free: a /16 that overlaps nothing on this host, if one was found. */
  suggestion?: string;
}

/** Pools larger than this many /24s are searched only this far. */
const MAX_SLOTS = 65_536;

/** Where a free /16 is looked for: the test range first, then the private ranges (RFC 2544, RFC 1918). */
const SUGGESTION_RANGES = ['198.19.0.0/16', '198.18.0.0/16', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

/** A /16 that overlaps nothing in `taken` (a route, an interface or a Docker network), or undefined. */
export function freeRange(taken: TakenRange[]): string | undefined {
  const used = taken.map((t) => parseCidr(t.cidr));
  for (const range of SUGGESTION_RANGES) {
    const r = parseCidr(range);
    for (let i = 0; i < 2 ** Math.max(0, 16 - r.bits); i++) {
      const candidate = { base: (r.base + i * 2 ** 16) >>> 0, bits: 16 };
      if (!used.some((t) => overlaps(t, candidate))) return formatCidr(candidate);
    }
  }
  return undefined;
}

/** The plan for `pool` given what is `taken` (pure). */
export function planSubnets(pool: string, taken: TakenRange[]): SubnetPlan {
  const poolCidr = parseCidr(pool);
  const bits = Math.max(24, poolCidr.bits);
  const size = Math.min(2 ** (bits - poolCidr.bits), MAX_SLOTS);
  const inPool = taken.filter((t) => overlaps(parseCidr(t.cidr), poolCidr));
  const cidrs = inPool.map((t) => parseCidr(t.cidr));
  let free = 0;
  let next: string | undefined;
  for (let i = 0; i < size; i++) {
    const candidate = { base: (poolCidr.base + i * 2 ** (32 - bits)) >>> 0, bits };
    if (cidrs.some((t) => overlaps(t, candidate))) continue;
    free++;
    next ??= formatCidr(candidate);
  }
  const suggestion = free === 0 ? freeRange(taken) : undefined;
  return {
    pool: formatCidr(poolCidr),
    size,
    free,
    ...(next ? { next } : {}),
    taken: inPool,
    ...(suggestion ? { suggestion } : {}),
  };
}

/** What to do when a pool has no free network: the computed free range, or that none was found. */
export function fullPoolHint(plan: SubnetPlan): string {
  return plan.suggestion
    ? `Set MICROLAB_SUBNET_POOL=${plan.suggestion} (nothing on this host uses it) and start MicroLab again, or run \`microlab down\` in projects you no longer use.`
    : `No free /16 was found on this host in ${SUGGESTION_RANGES.join(', ')}: run \`microlab down\` in projects you no longer use, remove Docker networks you do not need, or set MICROLAB_SUBNET_POOL to a range you know is free.`;
}

/**
 * Everything that holds IPv4 addresses here: every Docker network's subnets, and the host's
 * interfaces and routes (not the default route), a route that is a Docker network's own
 * bridge counted once.
 */
export async function takenRanges(docker: {
  listNetworks(): Promise<{ Name: string; IPAM?: { Config?: { Subnet?: string }[] | null } | null }[]>;
}): Promise<TakenRange[]> {
  const networks = await docker.listNetworks();
  const fromDocker = networks.flatMap((n) =>
    (n.IPAM?.Config ?? [])
      .filter((c) => c.Subnet && !c.Subnet.includes(':'))
      .map((c) => ({ cidr: formatCidr(parseCidr(c.Subnet!)), by: `Docker network ${n.Name}` })),
  );
  const known = new Set(fromDocker.map((t) => t.cidr));
  const routes = hostRoutes()
    .filter((r) => !known.has(r.cidr))
    .map((r) => ({ cidr: r.cidr, by: r.via }));
  return [...fromDocker, ...routes];
}
