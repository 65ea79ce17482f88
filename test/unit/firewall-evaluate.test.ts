import { describe, expect, it } from 'vitest';
import { decide, evaluate, explain, modeOf, segmentsOf, withMode } from '../../electron/firewall/evaluate';
import { parsePolicy } from '../../electron/firewall/policy';
import type { Workload } from '../../electron/topology/workload';

const tcp = (port: number) => ({ port, protocol: 'tcp' as const });
const W = (name: string, labels: Record<string, string>, ports: number[]): Workload => ({
  name,
  labels,
  ports: ports.map(tcp),
});

const gateway = W('gateway', { tier: 'web' }, [8080]);
const orders = W('orders', { tier: 'api', service: 'orders' }, [8080]);
const payments = W('payments', { tier: 'api', service: 'payments' }, [8080, 9090]);
const paymentsDb = W('payments-db', { tier: 'db', service: 'payments' }, [5432]);
const all = [gateway, orders, payments, paymentsDb];

const SEGMENTED = parsePolicy(`
defaultAction: deny
segments:
  web: { selector: { tier: web } }
  api: { selector: { tier: api } }
  db: { selector: { tier: db } }
  payments: { selector: { service: payments } }
rules:
  - { id: web-api, from: { segment: web }, to: { segment: api }, ports: [8080], action: allow }
  - { id: orders-payments, from: { workload: orders }, to: { workload: payments }, ports: [8080], action: allow }
  - { id: payments-db, from: { workload: payments }, to: { selector: { tier: db, service: payments } }, ports: [5432], action: allow }
  - { id: no-admin, from: any, to: { workload: payments }, ports: [9090], action: reject, priority: 10 }
  - { id: tie-allow, from: { workload: gateway }, to: { workload: payments-db }, action: allow, priority: 20 }
  - { id: tie-deny, from: { workload: gateway }, to: { segment: db }, action: deny, priority: 20 }
`);

describe('evaluator', () => {
  it('puts workloads in every segment that selects them', () => {
    expect(segmentsOf(SEGMENTED, payments)).toEqual(['api', 'payments']);
    expect(segmentsOf(SEGMENTED, paymentsDb)).toEqual(['db', 'payments']);
    expect(segmentsOf(SEGMENTED, W('other', {}, []))).toEqual([]);
  });

  it.each([
    // src, dst, port, action, rule
    ['gateway', 'orders', 8080, 'allow', 'web-api'],
    ['gateway', 'payments', 8080, 'allow', 'web-api'],
    ['orders', 'payments', 8080, 'allow', 'orders-payments'],
    ['payments', 'orders', 8080, 'deny', 'default'],
    ['payments', 'payments-db', 5432, 'allow', 'payments-db'],
    ['orders', 'payments-db', 5432, 'deny', 'default'],
    ['orders', 'payments', 9090, 'reject', 'no-admin'],
    ['gateway', 'payments', 9090, 'reject', 'no-admin'],
    // same priority: deny beats allow, whatever the file order
    ['gateway', 'payments-db', 5432, 'deny', 'tie-deny'],
    ['payments-db', 'gateway', 8080, 'deny', 'default'],
  ] as const)('%s -> %s:%d is %s by %s', (src, dst, port, action, ruleId) => {
    const find = (n: string) => all.find((w) => w.name === n)!;
    expect(decide(SEGMENTED, find(src), find(dst), tcp(port))).toEqual({ action, ruleId });
  });

  it('evaluates every pair of different workloads on each port the destination exposes', () => {
    const flows = evaluate(SEGMENTED, all);
    // 4 workloads: 3 sources for each destination port (1 + 1 + 2 + 1 ports).
    expect(flows).toHaveLength(3 * 5);
    expect(flows.some((f) => f.src === f.dst)).toBe(false);
    const allowed = flows
      .filter((f) => f.verdict === 'allowed')
      .map((f) => `${f.src}>${f.dst}:${f.port.port}`);
    expect(allowed.sort()).toEqual([
      'gateway>orders:8080',
      'gateway>payments:8080',
      'orders>payments:8080',
      'payments>payments-db:5432',
    ]);
    expect(
      flows.find((f) => f.dst === 'payments' && f.port.port === 9090 && f.src === 'orders')?.verdict,
    ).toBe('rejected');
  });

  it('udp and tcp are different ports', () => {
    const policy = parsePolicy(
      'defaultAction: deny\nrules:\n  - { id: dns, from: any, to: any, ports: ["53/udp"], action: allow }\n',
    );
    const dns = { name: 'dns', labels: {}, ports: [tcp(53), { port: 53, protocol: 'udp' as const }] };
    const verdicts = evaluate(policy, [dns, gateway]).filter((f) => f.dst === 'dns');
    expect(verdicts.map((f) => [f.port.protocol, f.verdict])).toEqual([
      ['tcp', 'denied'],
      ['udp', 'allowed'],
    ]);
  });

  describe('modes', () => {
    const policy = parsePolicy(`
mode: enforce
defaultAction: deny
segments:
  web: { selector: { tier: web } }
  api: { selector: { tier: api }, mode: monitor }
  payments: { selector: { service: payments }, mode: off }
rules:
  - { id: web-api, from: { segment: web }, to: { segment: api }, action: allow }
`);

    it('a segment overrides the mode; the least strict of several overrides wins', () => {
      expect(modeOf(policy, gateway)).toBe('enforce');
      expect(modeOf(policy, orders)).toBe('monitor');
      expect(modeOf(policy, payments)).toBe('off');
      expect(modeOf(policy, paymentsDb)).toBe('off');
    });

    it.each([
      // src mode, dst mode -> verdict of a denied flow
      ['orders', 'gateway', 'denied'], // monitor -> enforce: the destination enforces
      ['gateway', 'payments-db', 'denied'], // enforce -> off: the source enforces its egress
      ['orders', 'payments-db', 'audit'], // monitor -> off
      ['payments', 'payments-db', 'allowed'], // off -> off: nothing is loaded
      ['payments-db', 'orders', 'audit'], // off -> monitor
    ] as const)('%s -> %s is %s', (src, dst, verdict) => {
      const flow = evaluate(policy, all).find((f) => f.src === src && f.dst === dst)!;
      expect(flow.decision.action).toBe('deny');
      expect(flow.verdict).toBe(verdict);
    });

    it('withMode puts every workload in one mode', () => {
      const monitored = withMode(policy, 'monitor');
      expect(all.map((w) => modeOf(monitored, w))).toEqual(['monitor', 'monitor', 'monitor', 'monitor']);
      expect(evaluate(monitored, all).filter((f) => f.verdict === 'denied')).toEqual([]);
      expect(withMode(policy, undefined)).toBe(policy);
    });
  });

  it('explains a flow: segments, modes, each rule considered, and the decision', () => {
    const e = explain(SEGMENTED, gateway, paymentsDb, tcp(5432));
    expect(e.src).toEqual({ name: 'gateway', segments: ['web'], mode: 'enforce' });
    expect(e.dst).toEqual({ name: 'payments-db', segments: ['db', 'payments'], mode: 'enforce' });
    expect(e.rules.map((r) => [r.id, r.outcome])).toEqual([
      ['no-admin', 'to does not match'],
      ['tie-deny', 'matches'],
      ['tie-allow', 'not reached'],
      ['web-api', 'not reached'],
      ['orders-payments', 'not reached'],
      ['payments-db', 'not reached'],
    ]);
    expect(e.verdict).toBe('denied');
    expect(e.text.at(-1)).toBe('verdict: denied by tie-deny');
  });

  it('explains the default and a port a rule does not cover', () => {
    const e = explain(SEGMENTED, orders, payments, tcp(9999));
    expect(e.rules.find((r) => r.id === 'orders-payments')?.outcome).toBe('port not covered');
    expect(e.decision).toEqual({ action: 'deny', ruleId: 'default' });
    expect(e.text).toContain('no rule matches 9999/tcp: the default action deny applies');
  });

  it('adds the flows between replicas of one workload when it runs more than one, and explains them', () => {
    const single = evaluate(SEGMENTED, all);
    expect(single.some((f) => f.src === f.dst)).toBe(false);
    const scaled = evaluate(SEGMENTED, [...all, payments]);
    expect(
      scaled.filter((f) => f.src === f.dst).map((f) => [f.src, f.port.port, f.verdict, f.decision.ruleId]),
    ).toEqual([
      ['payments', 8080, 'denied', 'default'],
      ['payments', 9090, 'rejected', 'no-admin'],
    ]);
    expect(scaled.length).toBe(single.length + 2);
    const why = explain(SEGMENTED, payments, payments, tcp(9090), { replicas: 2 });
    expect(why.decision).toEqual({ action: 'reject', ruleId: 'no-admin' });
    expect(why.text.slice(0, 3)).toEqual([
      'payments to payments: from one replica to another (each replica is a host of its own to the firewall, so the policy decides; a replica reaching itself goes over loopback and is always allowed)',
      'payments runs 2 replicas',
      'payments is in segments api, payments (mode enforce)',
    ]);
    expect(explain(SEGMENTED, payments, payments, tcp(8080), { replicas: 1 }).text[1]).toBe(
      'payments runs 1 replica now: this applies once it runs more',
    );
  });
});
