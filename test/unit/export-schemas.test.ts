/**
 * Structural proof without a cluster: every object the export writes validates against its
 * real schema, offline.
 * - Kubernetes' own kinds (Namespace, Secret, Service, Deployment, StatefulSet, NetworkPolicy):
 *   the Kubernetes OpenAPI schemas that kubernetes-models ships.
 * - Cilium's CiliumNetworkPolicy: @kubernetes-models/cilium (generated from Cilium's Go API
 *   types). Its schemas refuse a wrong type or value with the path, not a field they do not know.
 * - Calico's Tier, NetworkPolicy and StagedNetworkPolicy: MicroLab's own JSON Schema of them
 *   (test/calico-schema.ts, written from Calico's API reference; no npm package ships Calico's
 *   schemas), compiled with ajv and strict on unknown fields as the API server is under kubectl's
 *   strict field validation.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Namespace, Secret, Service } from 'kubernetes-models/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { CiliumNetworkPolicy } from '@kubernetes-models/cilium/cilium.io/v2/CiliumNetworkPolicy';
import { exportKubernetes } from '../../electron/export';
import type { ExportTarget } from '../../electron/export/types';
import { parsePolicy } from '../../electron/firewall/policy';
import { deployments } from '../../electron/topology/declarations';
import { calicoValidators } from '../calico-schema';

type Obj = { apiVersion: string; kind: string; metadata?: { name?: string } } & Record<string, unknown>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each model takes its own shape
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'cilium.io/v2/CiliumNetworkPolicy': CiliumNetworkPolicy,
};

const CRDS = new Map(calicoValidators().map((v) => [v.key, v]));

/** Throws with every problem at its path ("/spec/egress/0/action: ..."), or when no schema is known. */
function validate(object: Obj): void {
  const key = `${object.apiVersion}/${object.kind}`;
  const crd = CRDS.get(key);
  if (crd) {
    const problems = crd.problems(object);
    if (problems.length) throw new Error(`${key} ${object.metadata?.name}: ${problems.join('; ')}`);
    return;
  }
  const Model = MODELS[key];
  if (!Model) throw new Error(`no schema for ${key}`);
  new Model(object).validate();
}

const policiesDir = path.resolve(import.meta.dirname, '../../labs/policies');
const shipped = readdirSync(policiesDir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

const KINDS: Record<ExportTarget, string[]> = {
  calico: ['Tier', 'NetworkPolicy'],
  cilium: ['CiliumNetworkPolicy'],
  networkpolicy: ['NetworkPolicy'],
};

describe('every exported object validates against its schema', () => {
  for (const target of ['networkpolicy', 'cilium', 'calico'] as const)
    describe(target, () => {
      const seen = new Set<string>();
      for (const file of shipped)
        it(file, () => {
          const shape = file.startsWith('monolith') ? 'monolith' : 'microservices';
          const policy = parsePolicy(readFileSync(path.join(policiesDir, file), 'utf8'), file);
          const result = exportKubernetes(deployments[shape], policy, {
            target,
            registry: 'registry.example:5000',
            accepts: { rejectAsDeny: true, dropLog: true, dropMonitor: true, inClusterOnly: true },
          });
          const objects = result.files.flatMap((f) =>
            parseAllDocuments(f.text).map((d) => d.toJSON() as Obj),
          );
          expect(objects.length).toBeGreaterThan(deployments[shape].workloads.length);
          for (const o of objects) {
            expect(() => validate(o), `${o.kind} ${o.metadata?.name} in ${file}`).not.toThrow();
            seen.add(o.kind);
          }
        });
      it(`covers ${KINDS[target].join(', ')}`, () => {
        for (const kind of KINDS[target]) expect(seen).toContain(kind);
        if (target === 'calico') expect(seen).toContain('StagedNetworkPolicy');
      });
    });
});

describe('every Calico object of the golden files validates', () => {
  const goldenDir = path.resolve(import.meta.dirname, '../fixtures/export');
  const golden = readdirSync(goldenDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  it('has golden files', () => expect(golden.length).toBeGreaterThan(0));
  for (const dir of golden)
    it(`${dir}/calico.yaml`, () => {
      const text = readFileSync(path.join(goldenDir, dir, 'calico.yaml'), 'utf8');
      const objects = parseAllDocuments(text)
        .map((d) => d.toJSON() as Obj)
        .filter((o) => o.apiVersion === 'projectcalico.org/v3');
      expect(objects.length).toBeGreaterThan(0);
      for (const o of objects) expect(() => validate(o), `${o.kind} ${o.metadata?.name}`).not.toThrow();
    });
});

describe('a broken object is refused with its path', () => {
  it('Kubernetes NetworkPolicy: endPort of the wrong type', () => {
    expect(() =>
      validate({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'x' },
        spec: { podSelector: {}, ingress: [{ ports: [{ port: 9000, endPort: '9100' }] }] },
      }),
    ).toThrow(/endPort/);
  });

  const cilium = {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name: 'x', namespace: 'microlab' },
    spec: {
      endpointSelector: { matchLabels: { 'microlab.io/workload': 'catalog' } },
      enableDefaultDeny: { ingress: true, egress: true },
      ingress: [{ toPorts: [{ ports: [{ port: '9000', endPort: 9100, protocol: 'TCP' }] }] }],
    },
  };
  it('Cilium: the valid object passes, a wrong type and a wrong protocol do not', () => {
    expect(() => validate(cilium)).not.toThrow();
    expect(() =>
      validate({ ...cilium, spec: { ...cilium.spec, enableDefaultDeny: { ingress: 'yes' } } }),
    ).toThrow(/\/spec\/enableDefaultDeny\/ingress must be boolean/);
    expect(() =>
      validate({
        ...cilium,
        spec: { ...cilium.spec, ingress: [{ toPorts: [{ ports: [{ port: '9000', protocol: 'TCP4' }] }] }] },
      }),
    ).toThrow(/\/spec\/ingress\/0\/toPorts\/0\/ports\/0\/protocol/);
  });

  const calico = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: { name: 'microlab.enforce', namespace: 'microlab' },
    spec: {
      tier: 'microlab',
      order: 100,
      selector: "tier == 'db'",
      types: ['Ingress', 'Egress'],
      ingress: [{ action: 'Log', protocol: 'TCP', source: {}, destination: { ports: [5432, '9000:9100'] } }],
      egress: [{ action: 'Deny' }],
    },
  };
  it('Calico: the valid object passes', () => {
    expect(() => validate(calico)).not.toThrow();
  });
  it.each([
    [
      'a field the schema does not know',
      { ...calico.spec, egress: [{ acton: 'Deny' }] },
      /\/spec\/egress\/0: unknown field "acton"/,
    ],
    [
      'a missing action',
      { ...calico.spec, egress: [{}] },
      /\/spec\/egress\/0: must have required property 'action'/,
    ],
    [
      'an action Calico does not have',
      { ...calico.spec, egress: [{ action: 'Reject' }] },
      /\/spec\/egress\/0\/action: must be equal to one of the allowed values \(Allow, Deny, Log, Pass\)/,
    ],
    ['order of the wrong type', { ...calico.spec, order: '100' }, /\/spec\/order: must be number/],
    ['a policy type Calico does not have', { ...calico.spec, types: ['Inbound'] }, /\/spec\/types\/0/],
    [
      'a protocol Calico does not have',
      { ...calico.spec, egress: [{ action: 'Allow', protocol: 'HTTP' }] },
      /\/spec\/egress\/0\/protocol/,
    ],
    [
      'a port out of range',
      { ...calico.spec, egress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [70000] } }] },
      /\/spec\/egress\/0\/destination\/ports\/0/,
    ],
    [
      'a net that is no CIDR',
      { ...calico.spec, egress: [{ action: 'Allow', destination: { nets: ['the internet'] } }] },
      /\/spec\/egress\/0\/destination\/nets\/0/,
    ],
    [
      'an ICMP code of the wrong type',
      { ...calico.spec, egress: [{ action: 'Allow', protocol: 'ICMP', icmp: { type: 8, code: 'zero' } }] },
      /\/spec\/egress\/0\/icmp\/code: must be integer/,
    ],
    [
      'a staged action on an enforced policy',
      { ...calico.spec, stagedAction: 'Set' },
      /unknown field "stagedAction"/,
    ],
  ])('Calico refuses %s', (_what, spec, message) => {
    expect(() => validate({ ...calico, spec })).toThrow(message);
  });
  it("Calico's StagedNetworkPolicy: a staged action Calico does not have", () => {
    const staged = { ...calico, kind: 'StagedNetworkPolicy' };
    expect(() => validate({ ...staged, spec: { ...calico.spec, stagedAction: 'Delete' } })).not.toThrow();
    expect(() => validate({ ...staged, spec: { ...calico.spec, stagedAction: 'Apply' } })).toThrow(
      /\/spec\/stagedAction: must be equal to one of the allowed values \(Set, Delete\)/,
    );
  });
  it("Calico's Tier: a default action a tier cannot have", () => {
    expect(() =>
      validate({
        apiVersion: 'projectcalico.org/v3',
        kind: 'Tier',
        metadata: { name: 'microlab' },
        spec: { order: 100, defaultAction: 'Allow' },
      }),
    ).toThrow(/\/spec\/defaultAction/);
  });
});
