/**
 * The policies shipped in labs/policies for the shop, and what each must do to a few flows
 * that tell it apart (what its header comment promises). The unit test checks these against
 * the evaluator and the declarations; the integration test checks them against the kernel.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DeploymentName } from '../electron/api/contract';
import type { Verdict } from '../electron/firewall/evaluate';
import type { Policy } from '../electron/firewall/policy';
import { parsePolicy } from '../electron/firewall/policy';

export const policiesDir = path.resolve(import.meta.dirname, '..', 'labs', 'policies');

export type PolicyKind = 'flat' | 'segmented' | 'broken';

/** src -> dst:port and the verdict the policy gives it. */
export type KeyCell = [src: string, dst: string, port: number, verdict: Verdict];

export interface ShippedPolicy {
  file: string;
  deployment: DeploymentName;
  kind: PolicyKind;
  /** For a broken one: segments that (deliberately) select no workload. */
  emptySegments?: string[];
  cells: KeyCell[];
}

const MS_SEGMENTED: KeyCell[] = [
  ['gateway', 'orders', 8080, 'allowed'],
  ['gateway', 'catalog', 8080, 'allowed'],
  ['cart', 'catalog', 8080, 'allowed'],
  ['orders', 'payments', 8080, 'allowed'],
  ['payments', 'payments-db', 5432, 'allowed'],
  ['catalog', 'catalog-db', 5432, 'allowed'],
  ['gateway', 'payments', 8080, 'denied'],
  ['gateway', 'payments-db', 5432, 'denied'],
  ['catalog', 'payments-db', 5432, 'denied'],
  ['cart', 'payments', 8080, 'denied'],
  ['orders', 'catalog-db', 5432, 'denied'],
  ['payments', 'gateway', 8080, 'denied'],
  ['payments-db', 'payments', 8080, 'denied'],
  // The neighbours: exactly what they need, no database, nothing into them.
  ['jumpbox', 'gateway', 8080, 'allowed'],
  ['reporting', 'orders', 8080, 'allowed'],
  ['jumpbox', 'orders', 8080, 'denied'],
  ['jumpbox', 'payments-db', 5432, 'denied'],
  ['jumpbox', 'users-db', 5432, 'denied'],
  ['reporting', 'orders-db', 5432, 'denied'],
  ['reporting', 'gateway', 8080, 'denied'],
  ['gateway', 'reporting', 8080, 'denied'],
];

const MONO_SEGMENTED: KeyCell[] = [
  ['shop', 'shop-db', 5432, 'allowed'],
  ['shop-db', 'shop', 8080, 'denied'],
  // The neighbours: exactly what they need, no database, nothing into them.
  ['jumpbox', 'shop', 8080, 'allowed'],
  ['reporting', 'shop', 8080, 'allowed'],
  ['jumpbox', 'shop-db', 5432, 'denied'],
  ['reporting', 'shop-db', 5432, 'denied'],
  ['shop', 'reporting', 8080, 'denied'],
  ['jumpbox', 'reporting', 8080, 'denied'],
];

export const SHIPPED: ShippedPolicy[] = [
  {
    file: 'monolith-flat.yaml',
    deployment: 'monolith',
    kind: 'flat',
    cells: [
      ['shop', 'shop-db', 5432, 'allowed'],
      ['shop-db', 'shop', 8080, 'allowed'],
      ['jumpbox', 'shop-db', 5432, 'allowed'],
      ['reporting', 'shop-db', 5432, 'allowed'],
    ],
  },
  {
    file: 'monolith-segmented.yaml',
    deployment: 'monolith',
    kind: 'segmented',
    cells: MONO_SEGMENTED,
  },
  {
    file: 'monolith-broken-selector.yaml',
    deployment: 'monolith',
    kind: 'broken',
    emptySegments: ['storefront'],
    cells: MONO_SEGMENTED,
  },
  {
    file: 'monolith-broken-priority.yaml',
    deployment: 'monolith',
    kind: 'broken',
    cells: [
      ['shop', 'shop-db', 5432, 'allowed'],
      ['shop-db', 'shop', 8080, 'allowed'],
      ['jumpbox', 'shop-db', 5432, 'allowed'],
    ],
  },
  {
    file: 'monolith-monitor.yaml',
    deployment: 'monolith',
    kind: 'broken',
    cells: [
      ['shop', 'shop-db', 5432, 'allowed'],
      ['shop-db', 'shop', 8080, 'audit'],
      ['reporting', 'shop-db', 5432, 'audit'],
      // The jumpbox is not in the shop's monitor segment: enforced.
      ['jumpbox', 'shop', 8080, 'allowed'],
      ['jumpbox', 'shop-db', 5432, 'denied'],
    ],
  },
  {
    file: 'microservices-flat.yaml',
    deployment: 'microservices',
    kind: 'flat',
    cells: MS_SEGMENTED.map(([s, d, p]) => [s, d, p, 'allowed']),
  },
  {
    file: 'microservices-segmented.yaml',
    deployment: 'microservices',
    kind: 'segmented',
    cells: MS_SEGMENTED,
  },
  {
    file: 'microservices-broken-selector.yaml',
    deployment: 'microservices',
    kind: 'broken',
    emptySegments: ['payments'],
    cells: [
      ['gateway', 'orders', 8080, 'allowed'],
      ['orders', 'catalog', 8080, 'allowed'],
      ['orders', 'payments', 8080, 'denied'],
      ['payments', 'payments-db', 5432, 'denied'],
      ['gateway', 'payments-db', 5432, 'denied'],
      ['reporting', 'orders', 8080, 'allowed'],
      ['jumpbox', 'gateway', 8080, 'allowed'],
    ],
  },
  {
    file: 'microservices-broken-priority.yaml',
    deployment: 'microservices',
    kind: 'broken',
    cells: [
      ['orders', 'payments', 8080, 'allowed'],
      ['payments', 'payments-db', 5432, 'allowed'],
      ['gateway', 'payments-db', 5432, 'allowed'],
      ['gateway', 'users-db', 5432, 'allowed'],
      ['catalog', 'payments-db', 5432, 'denied'],
      ['gateway', 'payments', 8080, 'denied'],
      ['reporting', 'payments-db', 5432, 'denied'],
      ['jumpbox', 'payments-db', 5432, 'denied'],
    ],
  },
  {
    file: 'microservices-monitor.yaml',
    deployment: 'microservices',
    kind: 'broken',
    // The jumpbox is not in the shop's monitor segment: its own flows stay enforced.
    cells: MS_SEGMENTED.map(([s, d, p, v]) => [s, d, p, v === 'denied' && s !== 'jumpbox' ? 'audit' : v]),
  },
];

/** Every YAML file in labs/policies. */
export function policyFiles(): string[] {
  return readdirSync(policiesDir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort();
}

export function policyPath(file: string): string {
  return path.join(policiesDir, file);
}

export function loadShipped(file: string): Policy {
  return parsePolicy(readFileSync(policyPath(file), 'utf8'), file);
}
