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

/** The shop's version: SHOP_VERSION=2 is the release whose catalog shows ratings. */
export function shopVersion(): number {
  const value = Number(env('SHOP_VERSION', '1'));
  return value === 2 ? 2 : 1;
}

export function versionString(): string {
  return `${shopVersion()}.0.0`;
}
