/**
 * Lab 3 (microservices, flat) on the real engine: start; the first step's checks fail before
 * the student acts; each step solved in turn ("Show me") passes its checks; the measurements
 * tell the story (scaling catalog alone costs less memory than the monolith ×3; the catalog
 * upgrade replaced only catalog's containers with no cart or checkout error, where the
 * monolith's replaced every copy of the app; a compromised catalog reaches payments-db);
 * reset of a step restores its start (deployment, scale, versions, policy), across a change of
 * deployment too.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckReport, Measurement } from '../../electron/api/contract';
import { shopLabForFile } from './shop-support';

const project = 'microlab-it-labs-msflat';
const { l } = shopLabForFile(project, { labPort: 0 });
const LAB = 'microservices-flat';

const failing = (r: CheckReport) => r.results.filter((x) => !x.passed).map((x) => x.message);

async function replicas(workload: string) {
  const status = await l.call('deploy:status', {});
  const found = status.workloads.filter((w) => w.workload === workload);
  return { count: found.length, versions: [...new Set(found.map((w) => w.version))] };
}

const policyFile = async () => path.basename((await l.call('policy:show', {})).source?.file ?? '');

describe('lab 3 on the real engine', () => {
  const measured = new Map<string, Measurement>();
  const value = (id: string) => {
    const m = measured.get(id);
    if (!m) throw new Error(`measure ${id} was not recorded`);
    return m.value;
  };

  /** "Show me" on the current step, then Check: every condition passes; records the measures. */
  async function solveAndCheck(): Promise<CheckReport> {
    await l.run('labs:solve', {});
    expect((await l.call('labs:status', {})).current?.outcome).toBe('solved');
    const report = await l.call('labs:check', {});
    expect(failing(report)).toEqual([]);
    expect(report.notRecorded).toEqual([]);
    for (const m of report.measurements) measured.set(m.id, m);
    return report;
  }

  it('starts: the monolith on a flat network, step 1 is current', async () => {
    await l.run('labs:start', { lab: LAB });
    expect(await l.call('labs:status', {})).toMatchObject({
      lab: LAB,
      step: 1,
      steps: 5,
      stepId: 'scale-monolith',
    });
    expect(await l.call('deploy:status', {})).toMatchObject({ deployment: 'monolith', healthy: true });
    expect(await policyFile()).toBe('monolith-flat.yaml');
    expect(await replicas('shop')).toEqual({ count: 1, versions: ['1'] });
  });

  it('the first step fails before the student acts, and says why', async () => {
    const report = await l.call('labs:check', {});
    expect(report.passed).toBe(false);
    expect(failing(report)).toEqual([
      'shop has 1 replica; the step expects 3',
      'no load has run since the step started',
    ]);
    await expect(l.call('labs:next', {})).rejects.toThrow(/has not passed yet/);
    expect(await l.call('labs:hint', {})).toMatchObject({ index: 1, of: 3 });
  });

  it('step 1: the monolith ×3 under the browse-heavy load; its memory counts three whole apps and the balancer', async () => {
    await solveAndCheck();
    expect(await replicas('shop')).toEqual({ count: 3, versions: ['1'] });
    expect(value('mono-rps')).toBeGreaterThan(0);
    expect(value('mono-p95')).toBeGreaterThan(0);
    expect(value('mono-memory')).toBeGreaterThan(0);
    expect(measured.get('mono-memory')?.source).toBe(
      `memory of 4 containers: ${project}-shop-1, ${project}-shop-2, ${project}-shop-3, ${project}-shop-lb`,
    );
  });

  it("step 2: the monolith's catalog upgrade replaces every copy of the whole app", async () => {
    await l.call('labs:next', {});
    const before = await l.call('labs:check', {});
    expect(failing(before)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/shop-1 runs version 1, .*; the step expects version 2$/),
        'no load has run since the step started',
        'no answer to "redeployed" yet',
      ]),
    );
    await solveAndCheck();
    expect(await replicas('shop')).toEqual({ count: 3, versions: ['2'] });
    // every copy of the app was replaced, and none of them is "catalog's": each carries every module
    expect(value('mono-upgrade-replaced')).toBe(3);
    expect(value('mono-upgrade-others')).toBe(value('mono-upgrade-replaced'));
    expect(measured.get('mono-upgrade-replaced')?.source).toBe(
      `containers replaced or restarted since the step started: ${project}-shop-1, ${project}-shop-2, ${project}-shop-3`,
    );
    expect(value('mono-upgrade-errors')).toBeGreaterThanOrEqual(0);
    expect(value('mono-upgrade-p95')).toBeGreaterThan(0);
  });

  it('step 3: the microservices with catalog ×3 serve the same load; scaling catalog alone costs less memory', async () => {
    await l.call('labs:next', {});
    const before = await l.call('labs:check', {});
    expect(failing(before)).toEqual(
      expect.arrayContaining([
        'monolith-flat.yaml is in force; the step expects microservices-flat.yaml',
        'catalog has 0 replicas; the step expects 3',
      ]),
    );
    await solveAndCheck();
    expect(await l.call('deploy:status', {})).toMatchObject({ deployment: 'microservices', healthy: true });
    expect(await policyFile()).toBe('microservices-flat.yaml');
    expect(await replicas('catalog')).toEqual({ count: 3, versions: ['1'] });
    expect(await replicas('cart')).toEqual({ count: 1, versions: ['1'] });
    expect(value('ms-rps')).toBeGreaterThan(0);
    expect(value('ms-p95')).toBeGreaterThan(0);
    expect(measured.get('ms-memory')?.source).toBe(
      `memory of 3 containers: ${project}-catalog-1, ${project}-catalog-2, ${project}-catalog-3`,
    );
    expect(value('ms-memory')).toBeGreaterThan(0);
    expect(value('ms-memory')).toBeLessThan(value('mono-memory'));
  });

  it('step 4: only catalog is upgraded under load, no cart or checkout error, every other container untouched', async () => {
    await l.call('labs:next', {});
    const before = await l.call('labs:check', {});
    expect(failing(before)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/catalog-1 runs version 1, .*; the step expects version 2$/),
        'no load has run since the step started',
      ]),
    );
    const report = await solveAndCheck();
    expect(report.results.find((r) => r.kind === 'unchanged')?.message).toMatch(
      /^\d+ containers untouched: same id, same start time, same image$/,
    );
    expect(await replicas('catalog')).toEqual({ count: 3, versions: ['2'] });
    expect(value('ms-upgrade-errors')).toBe(0);
    expect(value('ms-upgrade-replaced')).toBe(3);
    expect(value('ms-upgrade-others')).toBe(0);
    expect(measured.get('ms-upgrade-replaced')?.source).toBe(
      `containers replaced or restarted since the step started: ${project}-catalog-1, ${project}-catalog-2, ${project}-catalog-3`,
    );
    // the story: the monolith's release redeployed containers carrying other modules, this one none
    expect(value('mono-upgrade-others')).toBeGreaterThan(value('ms-upgrade-others'));
  });

  it('step 5: a compromised catalog reaches payments-db on the flat network', async () => {
    await l.call('labs:next', {});
    const before = await l.call('labs:check', {});
    expect(failing(before)).toEqual(['no answer to "databases" yet']);
    await solveAndCheck();
    expect(value('blast-flat-db')).toBe(5);
    expect(value('blast-flat')).toBeGreaterThanOrEqual(10);
    expect(measured.get('blast-flat')?.source).toMatch(/payments-db/);
    const radius = await l.call('blast:radius', { workload: 'catalog' });
    expect(JSON.stringify(radius)).toContain('payments-db');

    const summary = await l.call('labs:summary', { lab: LAB });
    expect(summary.state).toBe('completed');
    expect(summary.claims.every((c) => c.verdict === 'supported')).toBe(true);
    const table = await l.call('labs:table', {});
    const cell = table.cells.find((c) => c.app === 'microservices' && c.network === 'flat');
    expect(cell?.labs.find((x) => x.id === LAB)?.state).toBe('completed');
  });

  it("reset of step 4 restores its start: catalog ×3 at version 1, the flat policy, the step's progress", async () => {
    await l.run('labs:reset', { step: 4 });
    expect((await l.call('labs:status', {})).step).toBe(4);
    expect(await replicas('catalog')).toEqual({ count: 3, versions: ['1'] });
    expect(await replicas('cart')).toEqual({ count: 1, versions: ['1'] });
    expect(await policyFile()).toBe('microservices-flat.yaml');
    const again = await l.call('labs:check', {});
    expect(failing(again)).toEqual(
      expect.arrayContaining([expect.stringMatching(/runs version 1, .*; the step expects version 2$/)]),
    );
  });

  it('reset of step 3 crosses back to its start: the monolith ×3 at version 2 behind its balancer, its flat policy', async () => {
    await l.run('labs:reset', { step: 3 });
    expect((await l.call('labs:status', {})).step).toBe(3);
    const status = await l.call('deploy:status', {});
    expect(status).toMatchObject({ deployment: 'monolith', healthy: true });
    expect(status.balancer).toMatchObject({ target: 'shop', state: 'running' });
    expect(await replicas('shop')).toEqual({ count: 3, versions: ['2'] });
    expect(await policyFile()).toBe('monolith-flat.yaml');
    expect(failing(await l.call('labs:check', {}))).toContain('catalog has 0 replicas; the step expects 3');
  });
});
