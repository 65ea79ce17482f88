/**
 * The policies shipped in labs/policies: every file parses and validates, each uses the
 * selector labels the declarations really give the workloads, and each does to the shop's
 * flows what its header comment says.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deployments } from '../../electron/topology/declarations';
import type { Workload } from '../../electron/topology/workload';
import { decide, evaluate, segmentsOf } from '../../electron/firewall/evaluate';
import type { Peer } from '../../electron/firewall/policy';
import { parsePolicy, PolicyError } from '../../electron/firewall/policy';
import { loadShipped, policyFiles, policyPath, SHIPPED } from '../shop-policies';

const workloadsOf = (deployment: keyof typeof deployments): Workload[] =>
  deployments[deployment].workloads.map((w) => ({ name: w.name, labels: w.labels, ports: w.ports }));

describe('labs/policies', () => {
  it('holds a flat and a segmented policy and at least two broken ones for each deployment, and nothing unlisted', () => {
    expect(policyFiles()).toEqual(SHIPPED.map((p) => p.file).sort());
    for (const deployment of ['monolith', 'microservices'] as const) {
      const mine = SHIPPED.filter((p) => p.deployment === deployment);
      expect(mine.map((p) => p.file)).toContain(`${deployment}-flat.yaml`);
      expect(mine.map((p) => p.file)).toContain(`${deployment}-segmented.yaml`);
      expect(mine.filter((p) => p.kind === 'broken').length).toBeGreaterThanOrEqual(2);
    }
  });

  it.each(policyFiles())('%s parses and validates', (file) => {
    const text = readFileSync(policyPath(file), 'utf8');
    let issues: string[] = [];
    try {
      parsePolicy(text, file);
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      issues = err.issues.map((i) => `${i.line}:${i.column} ${i.message}`);
    }
    expect(issues).toEqual([]);
  });

  it.each(policyFiles())('%s starts with a header comment that says what it teaches', (file) => {
    const text = readFileSync(policyPath(file), 'utf8');
    const header = text
      .split('\n')
      .filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith('#')));
    expect(header.length).toBeGreaterThanOrEqual(3);
    if (file.includes('broken') || file.includes('monitor'))
      expect(header[0]).toMatch(/^# BROKEN ON PURPOSE/);
  });

  it('policy names are unique', () => {
    const names = SHIPPED.map((p) => loadShipped(p.file).name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(SHIPPED.map((p) => [p.file, p] as const))(
    '%s selects only labels the declarations give, and every segment matches a workload unless it is the bug',
    (file, shipped) => {
      const policy = loadShipped(file);
      const workloads = workloadsOf(shipped.deployment);
      const empty = policy.segments
        .filter((s) => !workloads.some((w) => segmentsOf(policy, w).includes(s.name)))
        .map((s) => s.name);
      expect(empty).toEqual(shipped.emptySegments ?? []);
      // Selectors inside rules select something too.
      const peers: Peer[] = policy.rules.flatMap((r) => [...r.from, ...r.to]);
      for (const peer of peers) {
        if (peer.kind === 'selector')
          expect(
            workloads.some((w) => Object.entries(peer.selector).every(([k, v]) => w.labels[k] === v)),
          ).toBe(true);
        if (peer.kind === 'workload') expect(workloads.map((w) => w.name)).toContain(peer.workload);
      }
    },
  );

  it.each(SHIPPED.map((p) => [p.file, p] as const))(
    '%s decides the telling flows as its header says',
    (file, shipped) => {
      const policy = loadShipped(file);
      const flows = evaluate(policy, workloadsOf(shipped.deployment));
      const verdict = (src: string, dst: string, port: number) =>
        flows.find((f) => f.src === src && f.dst === dst && f.port.port === port)?.verdict;
      expect(shipped.cells.map(([s, d, p]) => [s, d, p, verdict(s, d, p)])).toEqual(shipped.cells);
    },
  );

  it('flat policies are off; segmented ones enforce a default deny', () => {
    for (const p of SHIPPED.filter((x) => x.kind !== 'broken')) {
      const policy = loadShipped(p.file);
      if (p.kind === 'flat') expect(policy.mode).toBe('off');
      else expect([policy.mode, policy.defaultAction]).toEqual(['enforce', 'deny']);
    }
  });

  it('the segmented microservices policy is exactly the call graph: every allowed flow is one the shop makes', () => {
    const policy = loadShipped('microservices-segmented.yaml');
    const allowed = evaluate(policy, workloadsOf('microservices'))
      .filter((f) => f.verdict === 'allowed')
      .map((f) => `${f.src}>${f.dst}:${f.port.port}`)
      .sort();
    const own = ['users', 'catalog', 'cart', 'orders', 'payments'].map((s) => `${s}>${s}-db:5432`);
    expect(allowed).toEqual(
      [
        'gateway>users:8080',
        'gateway>catalog:8080',
        'gateway>cart:8080',
        'gateway>orders:8080',
        'cart>catalog:8080',
        'orders>cart:8080',
        'orders>catalog:8080',
        'orders>payments:8080',
        'jumpbox>gateway:8080',
        'reporting>orders:8080',
        ...own,
      ].sort(),
    );
  });

  it('the segmented monolith policy is exactly the call graph too, neighbours included', () => {
    const policy = loadShipped('monolith-segmented.yaml');
    const allowed = evaluate(policy, workloadsOf('monolith'))
      .filter((f) => f.verdict === 'allowed')
      .map((f) => `${f.src}>${f.dst}:${f.port.port}`)
      .sort();
    expect(allowed).toEqual(['jumpbox>shop:8080', 'reporting>shop:8080', 'shop>shop-db:5432']);
  });

  it("each neighbour's rule in the segmented monolith policy is needed: the public rule does not let them in", () => {
    const policy = loadShipped('monolith-segmented.yaml');
    const workloads = workloadsOf('monolith');
    const [shop, jumpbox, reporting] = ['shop', 'jumpbox', 'reporting'].map((n) =>
      workloads.find((w) => w.name === n)!,
    );
    for (const [neighbour, rule] of [
      [jumpbox!, 'operator-health'],
      [reporting!, 'reporting-to-app'],
    ] as const) {
      expect(decide(policy, neighbour, shop!, shop!.ports[0]!).ruleId).toBe(rule);
      const without = { ...policy, rules: policy.rules.filter((r) => r.id !== rule) };
      expect(decide(without, neighbour, shop!, shop!.ports[0]!)).toMatchObject({
        action: 'deny',
        ruleId: 'neighbours-by-own-rule',
      });
    }
  });

  it('the client side (no MicroLab workload) reaches the storefront and only it under the segmented policies', () => {
    const client: Workload = { name: 'loadgen', labels: {}, ports: [] };
    for (const deployment of ['monolith', 'microservices'] as const) {
      const policy = loadShipped(`${deployment}-segmented.yaml`);
      for (const w of workloadsOf(deployment).filter((x) => x.ports.length > 0)) {
        const action = decide(policy, client, w, w.ports[0]!).action;
        expect([w.name, action]).toEqual([
          w.name,
          w.name === deployments[deployment].entry ? 'allow' : 'deny',
        ]);
      }
    }
  });
});
