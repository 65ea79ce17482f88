/**
 * Structural proof without a cluster: every object the export writes for Kubernetes itself
 * (Namespace, Secret, Service, Deployment, StatefulSet, NetworkPolicy) validates against the
 * Kubernetes OpenAPI schemas that kubernetes-models ships. Calico's and Cilium's objects are
 * custom resources whose schemas no package ships; they are read back by their targets'
 * evaluators instead (export-equivalence.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Namespace, Secret, Service } from 'kubernetes-models/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { exportKubernetes } from '../../electron/export';
import { parsePolicy } from '../../electron/firewall/policy';
import { deployments } from '../../electron/topology/declarations';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each model takes its own shape
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

function validate(object: { apiVersion: string; kind: string }): void {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  new Model(object).validate();
}

const policiesDir = path.resolve(import.meta.dirname, '../../labs/policies');

describe('the exported Kubernetes objects validate against the Kubernetes schemas', () => {
  for (const file of readdirSync(policiesDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort())
    it(file, () => {
      const shape = file.startsWith('monolith') ? 'monolith' : 'microservices';
      const policy = parsePolicy(readFileSync(path.join(policiesDir, file), 'utf8'), file);
      const result = exportKubernetes(deployments[shape], policy, {
        target: 'networkpolicy',
        registry: 'registry.example:5000',
        accepts: { dropLog: true, dropMonitor: true, inClusterOnly: true },
      });
      const objects = result.files.flatMap((f) =>
        parseAllDocuments(f.text).map((d) => d.toJSON() as { apiVersion: string; kind: string }),
      );
      expect(objects.length).toBeGreaterThan(deployments[shape].workloads.length);
      for (const o of objects) expect(() => validate(o), `${o.kind} in ${file}`).not.toThrow();
    });

  it('fails on an object that breaks its schema', () => {
    expect(() =>
      validate({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'x' },
        spec: { podSelector: {}, ingress: [{ ports: [{ port: 9000, endPort: '9100' }] }] },
      } as never),
    ).toThrow(/endPort/);
  });
});
