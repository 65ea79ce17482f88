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
