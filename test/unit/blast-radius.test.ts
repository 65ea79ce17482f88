/**
 * The blast radius computation: probe cells from one source folded into one flow per
 * workload and port, counted as "reaches N of M workloads (K databases)", expected and
 * observed apart. The evaluator's side is checked against the shipped policies and the real
 * declarations (the probes' side is the integration test's).
 */
import { describe, expect, it } from 'vitest';
import type { Handlers } from '../../electron/api/dispatch';
import { dispatch } from '../../electron/api/dispatch';
import { deployments } from '../../electron/topology/declarations';
import type { Workload } from '../../electron/topology/workload';
import { evaluate } from '../../electron/firewall/evaluate';
import { blastRadius, summaryLine } from '../../electron/probe/blast-radius';
import type { ProbeCell } from '../../electron/probe/matrix';
import { expectedOutcome } from '../../electron/probe/matrix';
import { loadShipped } from '../shop-policies';

const workloadsOf = (deployment: keyof typeof deployments): Workload[] =>
  deployments[deployment].workloads.map((w) => ({ name: w.name, labels: w.labels, ports: w.ports }));

/** The cells a probe would give if the kernel did exactly what the evaluator says. */
function cellsFor(file: string, deployment: keyof typeof deployments): ProbeCell[] {
  return evaluate(loadShipped(file), workloadsOf(deployment)).map((f) => {
    const expected = expectedOutcome(f.verdict);
    return {
      src: f.src,
      srcContainer: `${f.src}-1`,
      dst: f.dst,
      dstContainer: `${f.dst}-1`,
      address: '198.19.0.9',
      port: f.port,
      verdict: f.verdict,
      ruleId: f.decision.ruleId,
      expected,
      observed: expected,
      match: true,
    };
  });
}

const cell = (dst: string, port: number, observed: ProbeCell['observed'], more: Partial<ProbeCell> = {}) =>
  ({
    src: 'jumpbox',
    srcContainer: 'jumpbox-1',
    dst,
    dstContainer: `${dst}-1`,
    address: '198.19.0.9',
    port: { port, protocol: 'tcp' },
    verdict: 'allowed',
    ruleId: 'r',
    expected: 'connected',
    observed,
    match: observed === 'connected',
    ...more,
  }) satisfies ProbeCell;

const workloads: Workload[] = [
  { name: 'jumpbox', labels: { tier: 'ops' }, ports: [] },
  { name: 'api', labels: { tier: 'api' }, ports: [{ port: 8080, protocol: 'tcp' }] },
  { name: 'db', labels: { tier: 'db' }, ports: [{ port: 5432, protocol: 'tcp' }] },
  { name: 'web', labels: { tier: 'web' }, ports: [{ port: 8080, protocol: 'tcp' }] },
];

describe('blastRadius', () => {
  it('folds replicas into one flow per workload and port, reached when any replica answered', () => {
    const r = blastRadius(
      'jumpbox',
      [
        cell('api', 8080, 'connected', { dstContainer: 'api-1' }),
        cell('api', 8080, 'connected', { dstContainer: 'api-2' }),
        cell('db', 5432, 'timeout', {
          verdict: 'denied',
          expected: 'timeout',
          match: true,
          ruleId: 'default',
        }),
        cell('web', 8080, 'refused', { verdict: 'rejected', expected: 'refused', match: true }),
        // another source's cell is not this blast radius
        { ...cell('db', 5432, 'connected'), src: 'api' },
      ],
      workloads,
    );
    expect(r.flows.map((f) => [f.workload, f.port.port, f.observed, f.replicas, f.ruleId])).toEqual([
      ['api', 8080, 'connected', 2, 'r'],
      ['db', 5432, 'timeout', 1, 'default'],
      ['web', 8080, 'refused', 1, 'r'],
    ]);
    expect(r.of).toBe(3);
    expect(r.observed).toEqual({ reached: ['api'], databases: 0 });
    expect(r.expected).toEqual(r.observed);
    expect(r.mismatches).toBe(0);
    expect(r.summary).toBe('jumpbox reaches 1 of 3 workloads (0 databases)');
  });

  it('keeps expected and observed apart, and counts a mismatch', () => {
    const r = blastRadius(
      'jumpbox',
      [
        cell('db', 5432, 'connected', { verdict: 'denied', expected: 'timeout', match: false }),
        cell('api', 8080, 'connected'),
      ],
      workloads,
    );
    expect(r.expected).toEqual({ reached: ['api'], databases: 0 });
    expect(r.observed).toEqual({ reached: ['api', 'db'], databases: 1 });
    expect(r.mismatches).toBe(1);
    expect(r.summary).toBe('jumpbox reaches 2 of 2 workloads (1 database)');
    expect(r.flows.find((f) => f.workload === 'db')).toMatchObject({ database: true, match: false });
  });

  it('says so in the singular', () => {
    expect(summaryLine('x', 1, 1, 1)).toBe('x reaches 1 of 1 workload (1 database)');
    expect(blastRadius('jumpbox', [], workloads).summary).toBe(
      'jumpbox reaches 0 of 0 workloads (0 databases)',
    );
  });

  it('flat policies: the jumpbox reaches every workload, databases included', () => {
    for (const deployment of ['monolith', 'microservices'] as const) {
      const r = blastRadius(
        'jumpbox',
        cellsFor(`${deployment}-flat.yaml`, deployment),
        workloadsOf(deployment),
      );
      const others = workloadsOf(deployment).filter((w) => w.name !== 'jumpbox' && w.ports.length > 0);
      const databases = others.filter((w) => w.labels.tier === 'db').length;
      expect(r.of).toBe(others.length);
      expect(r.expected).toEqual({ reached: others.map((w) => w.name).sort(), databases });
      expect(r.summary).toBe(summaryLine('jumpbox', others.length, others.length, databases));
      expect(databases).toBeGreaterThan(0);
    }
  });

  it('segmented policies: the jumpbox reaches only the storefront, and no database', () => {
    expect(
      blastRadius('jumpbox', cellsFor('monolith-segmented.yaml', 'monolith'), workloadsOf('monolith'))
        .expected,
    ).toEqual({ reached: ['shop'], databases: 0 });
    const ms = blastRadius(
      'jumpbox',
      cellsFor('microservices-segmented.yaml', 'microservices'),
      workloadsOf('microservices'),
    );
    expect(ms.expected).toEqual({ reached: ['gateway'], databases: 0 });
    expect(ms.flows.find((f) => f.workload === 'gateway')?.ruleId).toBe('operator-health');
    expect(ms.summary).toBe('jumpbox reaches 1 of 12 workloads (0 databases)');
  });
});

describe('blast:radius at the API boundary', () => {
  const echo = new Proxy({} as Handlers, {
    get: (_t, method: string) => async (input: unknown) => ({ method, input }),
  });

  it('takes a workload name and an optional timeout in seconds', async () => {
    expect(await dispatch(echo, 'blast:radius', { workload: 'jumpbox', timeoutSeconds: 0.5 })).toEqual({
      ok: true,
      result: { method: 'blast:radius', input: { workload: 'jumpbox', timeoutSeconds: 0.5 } },
    });
  });

  it.each([
    [{}, /workload/],
    [{ workload: '../etc' }, /workload: a workload name/],
    [{ workload: 'jumpbox', timeoutSeconds: 0 }, /timeoutSeconds/],
    [{ workload: 'jumpbox', timeoutSeconds: 60 }, /timeoutSeconds/],
    [{ workload: 'jumpbox', extra: 1 }, /Unrecognized key/],
  ])('%j is refused, saying what and where', async (input, message) => {
    const reply = await dispatch(echo, 'blast:radius', input);
    expect(reply.ok).toBe(false);
    expect(JSON.stringify(reply)).toMatch(message);
  });
});
