import { describe, expect, it } from 'vitest';
import { SAME_SEGMENT } from '../../electron/firewall/perimeter';
import { parsePolicy } from '../../electron/firewall/policy';
import { previewPolicy } from '../../electron/firewall/preview';
import { NO_POLICY } from '../../electron/probe/matrix';
import { microservices } from '../../electron/topology/declarations';
import { perimeterLayout, segmentsOfDeployment } from '../../electron/topology/perimeter';
import type { Workload } from '../../electron/topology/workload';

const tcp = (port: number) => ({ port, protocol: 'tcp' as const });
const W = (name: string, labels: Record<string, string>, ports: number[]): Workload => ({
  name,
  labels,
  ports: ports.map(tcp),
});

const web = W('web', { tier: 'web' }, [8080]);
const api = W('api', { tier: 'api' }, [8080]);
const db = W('db', { tier: 'db' }, [5432]);

const CANDIDATE = parsePolicy(`
defaultAction: deny
segments:
  web: { selector: { tier: web } }
  api: { selector: { tier: api } }
  db: { selector: { tier: db } }
rules:
  - { id: web-api, from: { segment: web }, to: { segment: api }, ports: [8080], action: allow }
  - { id: api-db, from: { segment: api }, to: { segment: db }, ports: [5432], action: allow }
`);

describe('policy preview (the expected matrix before apply)', () => {
  it('gives every flow its verdict under the candidate beside the verdict in force', () => {
    // two replicas of api: one workload, and the flow between its replicas is one of the flows
    const preview = previewPolicy(CANDIDATE, NO_POLICY, [web, api, { ...api }, db]);
    expect(preview.layout).toBe('flat');
    expect(preview.workloads).toEqual([
      { name: 'api', segments: ['api'], mode: 'enforce' },
      { name: 'db', segments: ['db'], mode: 'enforce' },
      { name: 'web', segments: ['web'], mode: 'enforce' },
    ]);
    expect(preview.flows).toHaveLength(7);
    const flow = (src: string, dst: string) => preview.flows.find((f) => f.src === src && f.dst === dst)!;
    expect(flow('web', 'api')).toMatchObject({
      verdict: 'allowed',
      decision: { action: 'allow', ruleId: 'web-api' },
      changed: false,
    });
    expect(flow('web', 'db')).toMatchObject({
      verdict: 'denied',
      decision: { action: 'deny', ruleId: 'default' },
      inForce: { verdict: 'allowed', ruleId: 'default' },
      changed: true,
    });
    expect(flow('api', 'api')).toMatchObject({
      verdict: 'denied',
      decision: { action: 'deny', ruleId: 'default' },
      changed: true,
    });
    expect(preview.changed).toBe(5);
  });

  it('the same policy as the one in force changes nothing', () => {
    const preview = previewPolicy(CANDIDATE, CANDIDATE, [web, api, db]);
    expect(preview.changed).toBe(0);
    expect(preview.flows.every((f) => f.inForce.ruleId === f.decision.ruleId)).toBe(true);
  });

  it('behind a perimeter, flows inside one segment meet no rule', () => {
    const workloads = microservices.workloads.map((w) => ({
      name: w.name,
      labels: w.labels,
      ports: w.ports,
    }));
    const subnets = Object.fromEntries(
      [...segmentsOfDeployment(microservices).keys()].map((s, i) => [s, `198.19.${40 + i}.0/24`]),
    );
    const layout = perimeterLayout(microservices, subnets);
    const denyAll = parsePolicy('defaultAction: deny\n');
    const preview = previewPolicy(denyAll, NO_POLICY, workloads, layout);
    expect(preview.layout).toBe('perimeter');
    const inside = preview.flows.filter((f) => f.decision.ruleId === SAME_SEGMENT);
    expect(inside.length).toBeGreaterThan(0);
    expect(inside.every((f) => f.verdict === 'allowed' && !f.changed)).toBe(true);
    const crossing = preview.flows.filter((f) => f.decision.ruleId !== SAME_SEGMENT);
    expect(crossing.every((f) => f.verdict === 'denied' && f.changed)).toBe(true);
  });
});
