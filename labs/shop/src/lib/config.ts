/** What a container is told at start, all through the environment. */
export const ROLES = [
  'monolith',
  'gateway',
  'catalog',
  'cart',
  'orders',
  'payments',
  'users',
  'loadgen',
  'reporting',
  'balancer',
] as const;
export type Role = (typeof ROLES)[number];

export function env(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
}

export function role(): Role {
  const value = env('SHOP_ROLE', 'monolith');
  if (!(ROLES as readonly string[]).includes(value)) {
    throw new Error(`SHOP_ROLE=${value} is not one of ${ROLES.join(', ')}`);
  }
  return value as Role;
}

/**
 * The shop's version. 2 is the release whose catalog shows ratings; 3 and 4 are catalog
 * releases broken on purpose, for the labs' bad-release experiment (domains/catalog.ts):
 * 3 has a functional bug (`reserve` answers 500), 4 a process-level fault (some seconds after
 * its first readiness answer, its catalog code deadlocks the process). Any other value is 1.
 */
export const SHOP_VERSIONS = [1, 2, 3, 4] as const;

export function shopVersion(): number {
  const value = Number(env('SHOP_VERSION', '1'));
  return (SHOP_VERSIONS as readonly number[]).includes(value) ? value : 1;
}

export function versionString(): string {
  return `${shopVersion()}.0.0`;
}
