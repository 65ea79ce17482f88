/**
 * The Kubernetes export proved without a cluster: for every shipped policy and for random
 * ones, each target's own semantics (electron/export/verify) over the exported YAML give the
 * same truth table as MicroLab's evaluator, over every workload pair, protocol and boundary port.
 */
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { policyManifests, yamlStream } from '../../electron/export';
import { inventoryOf } from '../../electron/export/shop';
import type { ExportAccepts, ExportTarget } from '../../electron/export/types';
import { EXPORT_TARGETS } from '../../electron/export/types';
import { clusterOf, prove, targetSemantics } from '../../electron/export/verify/equivalence';
import { parsePolicy } from '../../electron/firewall/policy';
import type { Policy } from '../../electron/firewall/policy';
import type { Deployment } from '../../electron/topology/declarations';
import { deployments } from '../../electron/topology/declarations';

const policiesDir = path.resolve(import.meta.dirname, '../../labs/policies');
const NS = 'microlab';
const ACCEPT_ALL: ExportAccepts = {
  rejectAsDeny: true,
  dropLog: true,
  dropMonitor: true,
  inClusterOnly: true,
};

function exported(
  policy: Policy,
  deployment: Deployment,
  target: ExportTarget,
  accepts = ACCEPT_ALL,
): string {
  const { manifests, refusals } = policyManifests(policy, deployment, target, NS, accepts);
  expect(refusals).toEqual([]);
  return yamlStream(manifests);
}

const shipped = readdirSync(policiesDir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((file) => ({
    file,
    deployment: deployments[file.startsWith('monolith') ? 'monolith' : 'microservices'],
    policy: parsePolicy(readFileSync(path.join(policiesDir, file), 'utf8'), file),
  }));

describe('every shipped policy, every target: the truth tables are equal', () => {
  it('ships policies to prove', () => {
    expect(shipped.length).toBeGreaterThanOrEqual(10);
  });
  for (const { file, deployment, policy } of shipped)
    for (const target of EXPORT_TARGETS)
      it(`${file} as ${target}`, () => {
        const proof = prove(
          target,
          policy,
          inventoryOf(deployment),
          exported(policy, deployment, target),
          NS,
        );
        expect(proof.rows).toBeGreaterThan(inventoryOf(deployment).length ** 2);
        expect(proof.mismatches).toEqual([]);
      });
});

describe("Calico's any is MicroLab's: outside the cluster too", () => {
  it("lets a browser reach the monolith's storefront and nothing else", () => {
    const { deployment, policy } = shipped.find((s) => s.file === 'monolith-segmented.yaml')!;
    const allows = targetSemantics('calico', exported(policy, deployment, 'calico', {}));
    const cluster = clusterOf(inventoryOf(deployment), NS);
    const pod = (name: string) => cluster.pods.find((p) => p.name === name)!;
    const browser = { name: 'browser', namespace: '', labels: {}, external: true };
    const tcp = (dst: string, port: number) => ({
      src: browser,
      dst: pod(dst),
      protocol: 'TCP' as const,
      port,
    });
    expect(allows(cluster, tcp('shop', 8080))).toBe(true);
    expect(allows(cluster, tcp('shop', 8081))).toBe(false);
    expect(allows(cluster, tcp('shop-db', 5432))).toBe(false);
    expect(allows(cluster, tcp('reporting', 8080))).toBe(false);
  });
});

describe('the proof can fail', () => {
  const { deployment, policy } = shipped.find((s) => s.file === 'microservices-segmented.yaml')!;
  it('finds the flow a tampered NetworkPolicy no longer allows', () => {
    const text = exported(policy, deployment, 'networkpolicy');
    // orders' ingress loses the gateway: gateway -> orders:8080 no longer connects.
    const tampered = text.replace(
      /(name: microlab-orders[\s\S]*?ingress:\n\s+- from:\n(?:\s+- podSelector:\n\s+matchLabels:\n\s+microlab\.io\/workload: \S+\n)*?)\s+- podSelector:\n\s+matchLabels:\n\s+microlab\.io\/workload: gateway\n/,
      '$1',
    );
    expect(tampered).not.toBe(text);
    const proof = prove('networkpolicy', policy, inventoryOf(deployment), tampered, NS);
    expect(proof.mismatches).toContainEqual({
      src: 'gateway',
      dst: 'orders',
      protocol: 'tcp',
      port: 8080,
      microlab: true,
      target: false,
    });
  });
  it('finds a Calico rule moved after the default', () => {
    const text = exported(policy, deployment, 'calico').replace(
      /action: Deny\n(\s+)metadata:\n\s+annotations:\n\s+microlab.io\/rule: default/g,
      'action: Allow\n$1metadata:\n$1  annotations:\n$1    microlab.io/rule: default',
    );
    const proof = prove('calico', policy, inventoryOf(deployment), text, NS);
    expect(proof.mismatches.length).toBeGreaterThan(0);
    expect(proof.mismatches.every((m) => !m.microlab && m.target)).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------
// Random policies over the microservices' workloads

const ms = deployments.microservices;
const names = ms.workloads.map((w) => w.name);
const labelPairs = [
  ...new Set(ms.workloads.flatMap((w) => Object.entries(w.labels).map(([k, v]) => `${k}=${v}`))),
];

const selectorArb = fc
  .uniqueArray(fc.constantFrom(...labelPairs), {
    minLength: 1,
    maxLength: 2,
    selector: (p) => p.split('=')[0],
  })
  .map((pairs) => Object.fromEntries(pairs.map((p) => p.split('='))));

const segmentArb = fc
  .record(
    {
      selector: selectorArb,
      workloads: fc.uniqueArray(fc.constantFrom(...names), { minLength: 1, maxLength: 3 }),
      mode: fc.constantFrom('off', 'monitor', 'enforce'),
    },
    { requiredKeys: [] },
  )
  .filter((s) => s.selector !== undefined || s.workloads !== undefined);

const SEGMENTS = ['s1', 's2', 's3'];
const peerArb = fc.oneof(
  fc.constant('any' as const),
  fc.constantFrom(...SEGMENTS).map((segment) => ({ segment })),
  selectorArb.map((selector) => ({ selector })),
  fc.constantFrom(...names).map((workload) => ({ workload })),
);
const portsArb = fc
  .uniqueArray(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 })
  .chain((cuts) =>
    fc.tuple(
      fc.constant(cuts.sort((a, b) => a - b)),
      fc.array(fc.constantFrom('tcp', 'udp'), { minLength: cuts.length, maxLength: cuts.length }),
    ),
  )
  .map(([cuts, protocols]) => {
    // Disjoint ranges around the shop's ports (8080, 5432) and the ends of the port space.
    const anchors = [1, 53, 5430, 5432, 8079, 8080, 8081, 9000, 20000, 65000, 65534, 65535];
    return cuts.map((c, i) => {
      const from = anchors[c - 1]!;
      const to = i % 2 === 0 ? from : Math.min(65535, from + 3);
      return `${from === to ? from : `${from}-${to}`}/${protocols[i]}`;
    });
  })
  .filter((ports) => {
    const ranges = ports.map((p) => {
      const [r, proto] = p.split('/');
      const [a, b = a] = r!.split('-').map(Number);
      return { a: a!, b: b!, proto };
    });
    return ranges.every((x, i) =>
      ranges.every((y, j) => i === j || x.proto !== y.proto || x.b < y.a || y.b < x.a),
    );
  });

const ruleArb = fc.record(
  {
    from: fc.oneof(peerArb, fc.array(peerArb, { minLength: 1, maxLength: 2 })),
    to: fc.oneof(peerArb, fc.array(peerArb, { minLength: 1, maxLength: 2 })),
    ports: portsArb,
    action: fc.constantFrom('allow', 'deny', 'reject'),
    priority: fc.constantFrom(10, 100, 100, 500),
    log: fc.boolean(),
  },
  { requiredKeys: ['from', 'to', 'action'] },
);

const policyArb = fc
  .record({
    mode: fc.constantFrom('off', 'monitor', 'enforce', 'enforce'),
    defaultAction: fc.constantFrom('allow', 'deny', 'reject'),
    segments: fc.tuple(segmentArb, segmentArb, segmentArb),
    rules: fc.array(ruleArb, { maxLength: 8 }),
  })
  .map(({ segments, rules, ...rest }) =>
    parsePolicy(
      stringify({
        ...rest,
        segments: Object.fromEntries(segments.map((s, i) => [SEGMENTS[i], s])),
        rules: rules.map((r, i) => ({ id: `r${i}`, ...r })),
      }),
    ),
  );

describe('random policies: the truth tables are equal', () => {
  for (const target of EXPORT_TARGETS)
    it(`as ${target}`, () => {
      fc.assert(
        fc.property(policyArb, (policy) => {
          const proof = prove(target, policy, inventoryOf(ms), exported(policy, ms, target), NS);
          expect(proof.mismatches).toEqual([]);
        }),
        { numRuns: 50 },
      );
    }, 300_000);
});
