import { describe, expect, it } from 'vitest';
import { cutScript, parseConntrack, parseCutLine } from '../../electron/firewall/cut';
import {
  compilePerimeter,
  perimeterConnectionsToCut,
  perimeterVerdicts,
  SAME_SEGMENT,
} from '../../electron/firewall/perimeter';
import { parsePolicy } from '../../electron/firewall/policy';
import { microservices, monolith } from '../../electron/topology/declarations';
import type { Deployment } from '../../electron/topology/declarations';
import { perimeterLayout, segmentsOfDeployment } from '../../electron/topology/perimeter';
import type { Workload } from '../../electron/topology/workload';

const workloadsOf = (d: Deployment): Workload[] =>
  d.workloads.map((w) => ({ name: w.name, labels: w.labels, ports: w.ports }));

function subnetsFor(d: Deployment): Record<string, string> {
  return Object.fromEntries([...segmentsOfDeployment(d).keys()].map((s, i) => [s, `198.19.${40 + i}.0/24`]));
}

const POLICY = parsePolicy(
  `
name: pci
mode: enforce
defaultAction: deny
segments:
  pci: { selector: { segment: pci } }
rules:
  - { id: orders-to-payments, from: { workload: orders }, to: { workload: payments }, ports: [8080], action: allow }
  - { id: payments-own-db, from: { workload: payments }, to: { workload: payments-db }, ports: [5432], action: allow }
`,
  'pci.yaml',
);

describe('perimeter layout', () => {
  it('puts each segment on its own network, with the router and fixed addresses', () => {
    const layout = perimeterLayout(microservices, subnetsFor(microservices));
    const segments = layout.segments.map((s) => s.segment);
    expect(segments).toEqual([...new Set(microservices.workloads.map((w) => w.labels.segment))].sort());
    for (const s of layout.segments) expect(s.router).toBe(s.subnet.replace(/0\/24$/, '2'));
    const payments = layout.workloads.find((w) => w.name === 'payments')!;
    const paymentsDb = layout.workloads.find((w) => w.name === 'payments-db')!;
    expect(payments.segment).toBe('pci');
    expect(paymentsDb.network).toBe(payments.network);
    // every address is unique and inside its segment's subnet
    const addresses = layout.workloads.map((w) => w.address);
    expect(new Set(addresses).size).toBe(addresses.length);
  });

  it("reaches other segments by proxy addresses on the caller's own network, and its own segment directly", () => {
    const layout = perimeterLayout(microservices, subnetsFor(microservices));
    const orders = layout.workloads.find((w) => w.name === 'orders')!;
    const ordersSubnet = layout.segments.find((s) => s.segment === orders.segment)!.subnet;
    const toPayments = orders.extraHosts.find((h) => h.startsWith('payments:'))!;
    const proxy = toPayments.split(':')[1]!;
    expect(proxy.startsWith(ordersSubnet.replace(/0\/24$/, ''))).toBe(true);
    expect(layout.proxies).toContainEqual({
      workload: 'payments',
      segment: orders.segment,
      address: proxy,
      target: layout.workloads.find((w) => w.name === 'payments')!.address,
    });
    // same-segment names are left to Docker's DNS
    const sameSegment = layout.workloads.filter((w) => w.segment === orders.segment && w.name !== 'orders');
    for (const w of sameSegment)
      expect(orders.extraHosts.some((h) => h.startsWith(`${w.name}:`))).toBe(false);
  });

  it('refuses workloads it cannot place', () => {
    const unlabeled = { ...monolith, workloads: [{ ...monolith.workloads[0]!, labels: { app: 'shop' } }] };
    expect(() => perimeterLayout(unlabeled, {})).toThrow(/has no segment label/);
    expect(() => perimeterLayout(monolith, { app: '198.19.1.0/24' })).toThrow(/no subnet for segment data/);
  });
});

describe('perimeter firewall', () => {
  const layout = perimeterLayout(microservices, subnetsFor(microservices));
  const verdicts = perimeterVerdicts(POLICY, layout, workloadsOf(microservices));
  const flow = (src: string, dst: string) => verdicts.find((v) => v.src === src && v.dst === dst)!;

  it('decides cross-segment flows by the policy, as microsegmentation would', () => {
    expect(flow('orders', 'payments')).toMatchObject({
      crossesPerimeter: true,
      verdict: 'allowed',
      microsegmented: 'allowed',
    });
    expect(flow('gateway', 'payments')).toMatchObject({
      crossesPerimeter: true,
      verdict: 'denied',
      microsegmented: 'denied',
    });
  });

  it('cannot see flows inside a segment: the blast radius of one compromised workload', () => {
    // catalog and orders share the "shop" segment: the policy denies it, the perimeter never sees it
    const sameSegment = flow('catalog', 'orders');
    expect(sameSegment).toMatchObject({
      crossesPerimeter: false,
      verdict: 'allowed',
      microsegmented: 'denied',
    });
    expect(sameSegment.decision.ruleId).toBe(SAME_SEGMENT);
  });

  it('compiles one atomic table with translations, decisions and a default drop', () => {
    const text = compilePerimeter(POLICY, layout, workloadsOf(microservices));
    const lines = text.split('\n').map((l) => l.trim());
    expect(lines.slice(1, 4)).toEqual([
      'table ip microlab_perimeter {}',
      'delete table ip microlab_perimeter',
      'table ip microlab_perimeter {',
    ]);
    const payments = layout.workloads.find((w) => w.name === 'payments')!.address;
    const orders = layout.workloads.find((w) => w.name === 'orders')!.address;
    expect(lines).toContain(
      `ip saddr ${orders} ip daddr ${payments} tcp dport 8080 counter accept comment "orders-to-payments allow"`,
    );
    for (const p of layout.proxies)
      expect(lines).toContain(`ip daddr ${p.address} counter dnat to ${p.target}`);
    expect(lines.filter((l) => l.startsWith('ct status dnat ip daddr'))).toHaveLength(layout.segments.length);
    expect(lines).toContain('type filter hook forward priority 0; policy drop;');
    const forward = lines.slice(lines.indexOf('chain forward {') + 2);
    expect(forward[forward.indexOf('}') - 1]).toBe('counter drop comment "default deny"');
    // no same-segment flow has a rule: the router never sees one
    const catalog = layout.workloads.find((w) => w.name === 'catalog')!.address;
    expect(text).not.toContain(`ip saddr ${orders} ip daddr ${catalog} `);
  });
});

describe('perimeter firewall: a policy change cuts what it denies', () => {
  const layout = perimeterLayout(microservices, subnetsFor(microservices));
  const address = (name: string) => layout.workloads.find((w) => w.name === name)!.address;
  const proxy = (from: string, to: string) => {
    const segment = layout.workloads.find((w) => w.name === from)!.segment;
    return layout.proxies.find((p) => p.workload === to && p.segment === segment)!;
  };
  const router = (name: string) => {
    const w = layout.workloads.find((x) => x.name === name)!;
    return layout.segments.find((s) => s.segment === w.segment)!.router;
  };
  // As the router's `conntrack -L` prints them: the original tuple to the proxy address, the
  // reply from the real address to the router's own (the DNAT and the SNAT).
  const entry = (src: string, dst: string, sport: number, port: number, state = 'ESTABLISHED') =>
    `tcp      6 431999 ${state} src=${address(src)} dst=${proxy(src, dst).address} sport=${sport} dport=${port} ` +
    `src=${address(dst)} dst=${router(dst)} sport=${port} dport=${sport} [ASSURED] mark=0 use=1`;
  const listing = [
    entry('gateway', 'catalog', 40001, 8080),
    entry('orders', 'payments', 40002, 8080),
    entry('gateway', 'users', 40003, 8080, 'TIME_WAIT'),
  ].join('\n');

  it('judges each entry by the workload behind the proxy address, and names it in the log line', () => {
    // POLICY allows orders -> payments and denies the rest across segments
    const cuts = perimeterConnectionsToCut(
      POLICY,
      layout,
      workloadsOf(microservices),
      parseConntrack(listing),
    );
    expect(cuts).toEqual([
      {
        entry: expect.objectContaining({ src: address('gateway'), dst: proxy('gateway', 'catalog').address }),
        direction: 'forward',
        verdict: 'denied',
        ruleId: 'default',
        target: address('catalog'),
      },
    ]);
    const script = cutScript(cuts);
    // deleted by the original tuple, logged with the real destination
    expect(script).toContain(`-d ${proxy('gateway', 'catalog').address} --sport 40001 --dport 8080`);
    const line = script.match(/echo "(microlab-cut [^"]+)"/)![1]!;
    expect(parseCutLine(line)).toMatchObject({
      direction: 'forward',
      entry: { src: address('gateway'), dst: address('catalog'), dport: 8080 },
      verdict: 'denied',
    });
  });

  it('cuts nothing a policy allows, nor what a monitor-mode policy would deny', () => {
    const open = parsePolicy('defaultAction: allow\nrules: []\n', 'open.yaml');
    expect(
      perimeterConnectionsToCut(open, layout, workloadsOf(microservices), parseConntrack(listing)),
    ).toEqual([]);
    const monitor = { ...POLICY, mode: 'monitor' as const };
    expect(
      perimeterConnectionsToCut(monitor, layout, workloadsOf(microservices), parseConntrack(listing)),
    ).toEqual([]);
  });
});
