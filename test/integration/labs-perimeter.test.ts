/**
 * Lab 5 (perimeter versus microsegmentation) on the real engine: start behind the perimeter;
 * the first step's checks fail before the student acts; each step solved in turn passes its
 * checks; the measurements tell the story (the perimeter's typo breaks more endpoints than the
 * same typo in one service's rule; a compromised catalog reaches more behind the perimeter
 * than with the rules next to each workload); reset of a step restores its start, layout and
 * policy included. Relations between measured numbers only, never timings.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckReport, Measurement } from '../../electron/api/contract';
import { shopLabForFile } from './shop-support';

const { l } = shopLabForFile('microlab-it-labs-perimeter', { labPort: 0 });
const LAB = 'perimeter';

const failing = (r: CheckReport) => r.results.filter((x) => !x.passed).map((x) => x.message);
const policyInForce = async () => path.basename((await l.call('policy:show', {})).source?.file ?? 'none');
const layout = async () => (await l.call('deploy:status', {})).layout ?? 'flat';

describe('lab 5 on the real engine', () => {
  const measured = new Map<string, Measurement>();
  const value = (id: string) => {
    const m = measured.get(id);
    if (!m) throw new Error(`no measurement ${id}`);
    return m.value;
  };
  const record = (report: CheckReport) => {
    for (const m of report.measurements) measured.set(m.id, m);
    expect(report.notRecorded).toEqual([]);
  };

  it('starts behind the perimeter with the zone rules, step 1 current', async () => {
    await l.run('labs:start', { lab: LAB });
    expect(await l.call('labs:status', {})).toMatchObject({ lab: LAB, step: 1, steps: 5, stepId: 'zones' });
    // labs:start waited until every container was healthy; a health check may flap on a busy engine
    expect(await l.call('deploy:status', {})).toMatchObject({
      deployment: 'microservices',
      layout: 'perimeter',
    });
    expect(await policyInForce()).toBe('perimeter-zones.yaml');
  });

  it('the first step fails before the student acts, naming the unanswered questions', async () => {
    const report = await l.call('labs:check', {});
    expect(report.passed).toBe(false);
    expect(failing(report)).toEqual([
      'no answer to "carrying-rule" yet',
      'no answer to "cross-zone-calls" yet',
    ]);
    await expect(l.call('labs:next', {})).rejects.toThrow(/has not passed yet/);
  });

  it('step 1 solved: the answers, and the shop serves through the perimeter', async () => {
    await l.run('labs:solve', {});
    const report = await l.call('labs:check', {});
    expect(failing(report)).toEqual([]);
    expect((await l.call('labs:status', {})).current?.outcome).toBe('solved');
  });

  it('step 2: the typo at the perimeter, under load, breaks every endpoint the load reached', async () => {
    await l.call('labs:next', {});
    const honest = await l.call('labs:check', {});
    expect(failing(honest)).toEqual(
      expect.arrayContaining([
        'perimeter-zones.yaml is in force; the step expects perimeter-zones.typo.yaml',
        'no load has run since the step started',
      ]),
    );
    await l.run('labs:solve', {});
    const report = await l.call('labs:check', {});
    expect(failing(report)).toEqual([]);
    record(report);
    expect(value('perimeter-failing')).toBeGreaterThanOrEqual(3);
    expect(value('perimeter-errors')).toBeGreaterThan(0);
  });

  it('step 3: the best rules at the perimeter leave catalog its zone', async () => {
    await l.call('labs:next', {});
    expect((await l.call('labs:check', {})).passed).toBe(false);
    await l.run('labs:solve', {});
    const report = await l.call('labs:check', {});
    expect(failing(report)).toEqual([]);
    record(report);
    expect(measured.get('blast-perimeter')?.source).toMatch(/orders-db/);
    expect(value('blast-perimeter-db')).toBeGreaterThanOrEqual(3);
  });

  it('step 4: the same rules next to each workload, in the flat layout', async () => {
    await l.call('labs:next', {});
    const honest = await l.call('labs:check', {});
    expect(failing(honest)).toEqual(
      expect.arrayContaining([
        'the microservices runs in the perimeter layout; the step expects flat',
        'catalog -> orders-db:5432 connected; the step expects it blocked',
      ]),
    );
    await l.run('labs:solve', {});
    expect(await layout()).toBe('flat');
    const report = await l.call('labs:check', {});
    expect(failing(report)).toEqual([]);
    record(report);
    expect(value('blast-micro-db')).toBe(1);
  });

  it('step 5: the same typo in one service rule breaks fewer endpoints', async () => {
    await l.call('labs:next', {});
    expect((await l.call('labs:check', {})).passed).toBe(false);
    await l.run('labs:solve', {});
    const report = await l.call('labs:check', {});
    expect(failing(report)).toEqual([]);
    record(report);
    expect(value('segment-failing')).toBeGreaterThanOrEqual(1);
    expect(measured.get('segment-failing')?.source).toMatch(/POST \/api\/orders/);
    const summary = await l.call('labs:summary', { lab: LAB });
    expect(summary.state).toBe('completed');
    expect(summary.claims.every((c) => c.verdict === 'supported')).toBe(true);
  });

  it('the numbers tell the story: a change and a compromise both reach further at the perimeter', () => {
    expect(value('perimeter-failing')).toBeGreaterThan(value('segment-failing'));
    expect(value('blast-perimeter')).toBeGreaterThan(value('blast-micro'));
    expect(value('blast-perimeter-db')).toBeGreaterThan(value('blast-micro-db'));
  });

  it('reset of a step restores its start: layout and policy', async () => {
    await l.run('labs:reset', { step: 5 });
    expect((await l.call('labs:status', {})).step).toBe(5);
    expect(await layout()).toBe('flat');
    expect(await policyInForce()).toBe('microservices-segmented.yaml');

    await l.run('labs:reset', { step: 4 });
    expect((await l.call('labs:status', {})).step).toBe(4);
    expect(await layout()).toBe('perimeter');
    expect(await policyInForce()).toBe('microservices-segmented.yaml');
    const report = await l.call('labs:check', {});
    expect(failing(report)).toContain(
      'the microservices runs in the perimeter layout; the step expects flat',
    );
  });
});
