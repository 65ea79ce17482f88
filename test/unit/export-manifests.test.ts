/**
 * The Kubernetes export: the shop's manifests, the refusals (each construct a target cannot
 * express, named with the option that accepts the loss), and golden files for the shipped
 * policies (test/fixtures/export; rewrite them with MICROLAB_UPDATE_GOLDEN=1 and review the diff).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { exportKubernetes, policyManifests, yamlStream } from '../../electron/export';
import { readinessProbe, WORKLOAD_KEY } from '../../electron/export/shop';
import type { ExportAccepts, ExportTarget } from '../../electron/export/types';
import { EXPORT_TARGETS, ExportRefused } from '../../electron/export/types';
import { parsePolicy } from '../../electron/firewall/policy';
import { deployments } from '../../electron/topology/declarations';

const policiesDir = path.resolve(import.meta.dirname, '../../labs/policies');
const goldenDir = path.resolve(import.meta.dirname, '../fixtures/export');
const ms = deployments.microservices;

type Obj = { kind: string; metadata: { name: string }; spec: Record<string, unknown> } & Record<
  string,
  unknown
>;
const docs = (text: string) => parseAllDocuments(text).map((d) => d.toJSON() as Obj);

describe('the shop as manifests', () => {
  const result = exportKubernetes(ms, undefined, {
    target: 'networkpolicy',
    registry: 'registry.example:5000/',
  });
  const all = result.files.flatMap((f) => docs(f.text));
  const byKind = (kind: string) => all.filter((o) => o.kind === kind);

  it('has a Deployment per app and neighbour, a StatefulSet with a claim per database, a Service per served port', () => {
    const dbs = ms.workloads
      .filter((w) => w.kind === 'postgres')
      .map((w) => w.name)
      .sort();
    const others = ms.workloads
      .filter((w) => w.kind !== 'postgres')
      .map((w) => w.name)
      .sort();
    expect(
      byKind('StatefulSet')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(dbs);
    expect(
      byKind('Deployment')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(others);
    for (const s of byKind('StatefulSet')) expect((s.spec.volumeClaimTemplates as unknown[]).length).toBe(1);
    expect(
      byKind('Service')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(
      ms.workloads
        .filter((w) => w.ports.length)
        .map((w) => w.name)
        .sort(),
    );
    expect(byKind('Secret')).toHaveLength(1);
  });

  it("labels pods with MicroLab's selector labels and the workload's name, and takes images from the registry", () => {
    for (const w of ms.workloads) {
      const o = all.find(
        (x) => (x.kind === 'Deployment' || x.kind === 'StatefulSet') && x.metadata.name === w.name,
      )!;
      const template = o.spec.template as {
        metadata: { labels: Record<string, string> };
        spec: { containers: { image: string; env: { name: string; value?: string }[] }[] };
      };
      expect(template.metadata.labels).toEqual({ ...w.labels, [WORKLOAD_KEY]: w.name });
      expect(template.spec.containers[0]!.image).toBe('registry.example:5000/microlab/shop:0.1.0');
      // The password is never in the manifest: it comes from the Secret.
      expect(JSON.stringify(template)).not.toContain('{{db-password}}');
    }
  });

  it("runs a database as the image's postgres user, on a claim it owns", () => {
    const db = byKind('StatefulSet').find((o) => o.metadata.name === 'payments-db')!;
    const pod = (
      db.spec.template as {
        spec: { initContainers: { command: string[] }[]; containers: { command: string[] }[] };
      }
    ).spec;
    expect(pod.containers[0]!.command.slice(0, 5)).toEqual(['su', 'postgres', '-s', '/bin/sh', '-c']);
    expect(pod.initContainers[0]!.command.join(' ')).toContain('chown postgres: /seed && chmod 700 /seed');
  });

  it('turns the health checks into readiness probes', () => {
    const gateway = ms.workloads.find((w) => w.name === 'gateway')!;
    expect(readinessProbe(gateway.health)).toEqual({
      httpGet: { path: '/readyz', port: 8080 },
      periodSeconds: 2,
      timeoutSeconds: 2,
      failureThreshold: 3,
    });
    const db = ms.workloads.find((w) => w.name === 'payments-db')!;
    expect(readinessProbe(db.health)).toMatchObject({ exec: { command: db.health.test.slice(1) } });
  });

  it('takes the running replicas and versions when given', () => {
    const r = exportKubernetes(ms, undefined, {
      target: 'calico',
      namespace: 'shop',
      replicas: { catalog: 3 },
      versions: { catalog: '2' },
    });
    const catalog = docs(r.files.find((f) => f.name === 'shop/catalog.yaml')!.text)[0]!;
    expect(catalog.spec.replicas).toBe(3);
    expect(JSON.stringify(catalog)).toContain('"name":"SHOP_VERSION","value":"2"');
    expect(r.namespace).toBe('shop');
  });
});

// ------------------------------------------------------------------------------------------

const SEGMENTS = 'segments:\n  api: { selector: { tier: api } }\n  db: { selector: { tier: db } }\n';
const policy = (body: string) => parsePolicy(body.startsWith('segments:') ? body : `${SEGMENTS}${body}`);
const refused = (target: ExportTarget, text: string, accepts: ExportAccepts = {}) =>
  policyManifests(policy(text), ms, target, 'microlab', accepts).refusals;

describe('what a target cannot express is refused, never dropped', () => {
  const REJECT = `rules:\n  - { id: no-db, from: any, to: { segment: db }, action: reject, log: false }\n  - { id: api, from: { segment: api }, to: { segment: db }, ports: [5432], action: allow, log: false, priority: 1 }\n`;
  const LOG = `rules:\n  - { id: api-db, from: { segment: api }, to: { segment: db }, ports: [5432], action: allow }\n`;
  const MONITOR = `mode: monitor\nrules:\n  - { id: api-db, from: { segment: api }, to: { segment: db }, ports: [5432], action: allow, log: false }\n`;
  const SEGMENT_MONITOR = `segments:\n  pci: { selector: { service: payments }, mode: monitor }\nrules: []\n`;
  const OUTSIDE = `rules:\n  - { id: public, from: any, to: { workload: gateway }, ports: [8080], action: allow, log: false }\n`;
  const EGRESS_OUTSIDE = `rules:\n  - { id: out, from: { workload: orders }, to: any, ports: [443], action: allow, log: false }\n`;

  for (const target of EXPORT_TARGETS)
    it(`reject, in ${target}: --reject-as-deny`, () => {
      const r = refused(target, REJECT);
      expect(r.map((x) => x.construct)).toContain('reject');
      expect(r.find((x) => x.construct === 'reject')!.message).toMatch(/no-db.*--reject-as-deny/);
      expect(refused(target, REJECT, { rejectAsDeny: true, inClusterOnly: true })).toEqual([]);
    });

  for (const target of ['networkpolicy', 'cilium'] as const) {
    it(`log, in ${target}: --drop-log`, () => {
      const [r] = refused(target, LOG);
      expect(r).toMatchObject({ construct: 'log', where: ['api-db'], option: 'dropLog' });
      expect(r!.message).toContain('--drop-log');
      expect(refused(target, LOG, { dropLog: true })).toEqual([]);
    });
    it(`monitor, policy-wide or one segment's, in ${target}: --drop-monitor`, () => {
      const [r] = refused(target, MONITOR);
      expect(r).toMatchObject({ construct: 'monitor', option: 'dropMonitor' });
      expect(r!.where).toEqual(ms.workloads.map((w) => w.name).sort());
      expect(refused(target, MONITOR, { dropMonitor: true })).toEqual([]);
      const [s] = refused(target, SEGMENT_MONITOR);
      expect(s).toMatchObject({ construct: 'monitor', where: ['payments', 'payments-db'] });
      expect(s!.message).toContain('--drop-monitor');
    });
    it(`"any" reaching outside the cluster, in ${target}: --in-cluster-only`, () => {
      const [r] = refused(target, OUTSIDE);
      expect(r).toMatchObject({ construct: 'any-outside', where: ['gateway'], option: 'inClusterOnly' });
      expect(r!.message).toContain('--in-cluster-only');
      expect(refused(target, EGRESS_OUTSIDE)[0]).toMatchObject({
        construct: 'any-outside',
        where: ['orders'],
      });
      expect(refused(target, OUTSIDE, { inClusterOnly: true })).toEqual([]);
      // "any" that only ever denies loses nothing.
      expect(
        refused(
          target,
          `rules:\n  - { id: none, from: any, to: { segment: db }, action: deny, log: false }\n`,
        ),
      ).toEqual([]);
    });
  }

  it('Calico expresses log (a Log rule before its rule), monitor (a staged policy) and any', () => {
    for (const text of [LOG, MONITOR, SEGMENT_MONITOR, OUTSIDE]) expect(refused('calico', text)).toEqual([]);
    const { manifests } = policyManifests(policy(LOG), ms, 'calico', 'microlab');
    const enforced = manifests.find((m) => m.kind === 'NetworkPolicy') as Obj;
    const actions = (enforced.spec.ingress as { action: string }[]).map((r) => r.action);
    expect(actions).toEqual(['Log', 'Allow', 'Deny']);
    const staged = policyManifests(policy(SEGMENT_MONITOR), ms, 'calico', 'microlab').manifests;
    expect(staged.map((m) => m.kind)).toEqual(['Tier', 'NetworkPolicy', 'StagedNetworkPolicy']);
    expect((staged[2] as Obj).spec.selector).toBe("microlab.io/workload in { 'payments', 'payments-db' }");
  });

  it('exportKubernetes throws export-refused with every refusal, and the options in its hint', () => {
    let error: unknown;
    try {
      exportKubernetes(
        ms,
        policy(
          `${REJECT.replace('log: false }\n  - { id: api', 'log: true }\n  - { id: api')}${OUTSIDE.replace('rules:\n', '')}`,
        ),
        {
          target: 'networkpolicy',
        },
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExportRefused);
    const e = error as ExportRefused;
    expect(e.code).toBe('export-refused');
    expect(e.refusals.map((r) => r.construct).sort()).toEqual(['any-outside', 'log', 'reject']);
    expect(e.hint).toContain('--reject-as-deny');
    expect(e.hint).toContain('--drop-log');
    expect(e.hint).toContain('--in-cluster-only');
  });

  it('mode off exports no policy at all', () => {
    for (const target of EXPORT_TARGETS) {
      const { manifests } = policyManifests(parsePolicy('mode: off\n'), ms, target, 'microlab', {});
      expect(manifests.filter((m) => m.kind !== 'Tier')).toEqual([]);
    }
  });

  it('NetworkPolicy writes a range with endPort, and the DNS lookups explicitly', () => {
    const { manifests } = policyManifests(
      policy(
        `rules:\n  - { id: r, from: { workload: orders }, to: { workload: payments }, ports: ["8000-8100", "53/udp"], action: allow, log: false }\n`,
      ),
      ms,
      'networkpolicy',
      'microlab',
      {},
    );
    const orders = manifests.find((m) => (m as Obj).metadata.name === 'microlab-orders') as Obj;
    const egress = orders.spec.egress as { to: unknown[]; ports?: unknown[] }[];
    expect(egress[0]!.ports).toEqual([
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ]);
    expect(egress[1]!.ports).toEqual([
      { protocol: 'TCP', port: 8000, endPort: 8100 },
      { protocol: 'UDP', port: 53 },
    ]);
  });
});

// ------------------------------------------------------------------------------------------

/** What each shipped policy needs accepted (reviewed once, kept with the golden files). */
const ACCEPT_FOR_FLAT: ExportAccepts = { dropLog: true, dropMonitor: true, inClusterOnly: true };

describe('golden files of the shipped policies', () => {
  const files = readdirSync(policiesDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  for (const file of files)
    for (const target of EXPORT_TARGETS)
      it(`${file} as ${target}`, () => {
        const deployment = deployments[file.startsWith('monolith') ? 'monolith' : 'microservices'];
        const p = parsePolicy(readFileSync(path.join(policiesDir, file), 'utf8'), file);
        const { manifests, refusals } = policyManifests(
          p,
          deployment,
          target,
          'microlab',
          target === 'calico' ? {} : ACCEPT_FOR_FLAT,
        );
        expect(refusals).toEqual([]);
        const text = yamlStream(manifests);
        const golden = path.join(goldenDir, file.replace(/\.yaml$/, ''), `${target}.yaml`);
        if (process.env.MICROLAB_UPDATE_GOLDEN) {
          mkdirSync(path.dirname(golden), { recursive: true });
          writeFileSync(golden, text);
        }
        expect(text).toBe(readFileSync(golden, 'utf8'));
      });
});
