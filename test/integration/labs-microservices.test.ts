/**
 * The lab runner on the real engine, with lab 4 (microservices, segmented): start; the first
 * step's checks fail before the student acts; each step solved in turn passes its checks; the
 * measurements tell the story; a wrong policy makes a check fail naming the flow; reset of a
 * step and of the lab restore deployment, scale, versions and policy.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckReport, Measurement } from '../../electron/api/contract';
import { policyPath } from '../shop-policies';
import { lab, shopLabForFile } from './shop-support';

const project = 'microlab-it-labs-ms';
const { l, stateDir } = shopLabForFile(project, { labPort: 0 });
const LAB = 'microservices-segmented';

const failing = (r: CheckReport) => r.results.filter((x) => !x.passed).map((x) => x.message);

async function catalog() {
  const status = await l.call('deploy:status', {});
  const replicas = status.workloads.filter((w) => w.workload === 'catalog');
  return { count: replicas.length, versions: [...new Set(replicas.map((w) => w.version))] };
}

describe('lab 4 on the real engine', () => {
  const measured = new Map<string, Measurement>();

  it('starts: the shop is set up as the lab says, step 1 is current', async () => {
    await l.run('labs:start', { lab: LAB });
    const status = await l.call('labs:status', {});
    expect(status).toMatchObject({ lab: LAB, step: 1, steps: 5, stepId: 'baseline' });
    const deployment = await l.call('deploy:status', {});
    expect(deployment).toMatchObject({ deployment: 'microservices', healthy: true });
    const show = await l.call('policy:show', {});
    expect(path.basename(show.source?.file ?? '')).toBe('microservices-flat.yaml');
  });

  it('the first step fails before the student acts, and says why', async () => {
    const report = await l.call('labs:check', {});
    expect(report.passed).toBe(false);
    expect(failing(report)).toEqual(['no answer to "reaches-payments-db" yet']);
    await expect(l.call('labs:next', {})).rejects.toThrow(/has not passed yet/);
    const hint = await l.call('labs:hint', {});
    expect(hint).toMatchObject({ index: 1, of: 3 });
  });

  it('a wrong answer fails naming it; the right one passes and records the blast radius', async () => {
    await l.call('labs:answer', { question: 'reaches-payments-db', answer: 'no' });
    expect(failing(await l.call('labs:check', {}))).toEqual([
      '"no" is not the answer to "reaches-payments-db"',
    ]);
    await l.call('labs:answer', { question: 'reaches-payments-db', answer: ' Yes ' });
    const report = await l.call('labs:check', {});
    expect(failing(report)).toEqual([]);
    expect(report.outcome).toBe('passed');
    for (const m of report.measurements) measured.set(m.id, m);
    expect(measured.get('blast-before')?.value).toBeGreaterThanOrEqual(10);
    expect(measured.get('blast-before-db')?.value).toBe(5);
  });

  it('steps 2 and 3 solved with "Show me" pass their checks', async () => {
    await l.call('labs:next', {});
    const before = await l.call('labs:check', {});
    expect(before.passed).toBe(false);
    await l.run('labs:solve', {});
    expect((await l.call('labs:status', {})).current?.outcome).toBe('solved');

    await l.call('labs:next', {});
    const honest = await l.call('labs:check', {});
    expect(failing(honest)).toEqual(
      expect.arrayContaining([
        'catalog is in monitor mode; the step expects enforce; payments-db is in monitor mode; the step expects enforce',
        'catalog -> payments-db:5432 connected; the step expects it blocked',
      ]),
    );
    await l.run('labs:solve', {});
    const report = await l.call('labs:check', {});
    expect(failing(report)).toEqual([]);
    for (const m of report.measurements) measured.set(m.id, m);
    expect(measured.get('blast-after-db')?.value).toBe(1);
    expect(measured.get('blast-after')!.value).toBeLessThan(measured.get('blast-before')!.value);
  });

  it('a wrong policy makes the check fail naming the flow', async () => {
    await l.call('policy:apply', { file: policyPath('microservices-flat.yaml') });
    const report = await l.call('labs:check', {});
    expect(report.passed).toBe(false);
    expect(failing(report)).toContain('catalog -> payments-db:5432 connected; the step expects it blocked');
    await l.call('policy:apply', { file: policyPath('microservices-segmented.yaml') });
    expect(failing(await l.call('labs:check', {}))).toEqual([]);
  });

  it('steps 4 and 5: scale and upgrade under the policy, zero errors, only catalog replaced', async () => {
    await l.call('labs:next', {});
    await l.run('labs:solve', {});
    expect(await catalog()).toEqual({ count: 3, versions: ['1'] });
    await l.call('labs:next', {});
    expect((await l.call('labs:check', {})).passed).toBe(false);
    await l.run('labs:solve', {});
    const report = await l.call('labs:check', {});
    expect(failing(report)).toEqual([]);
    for (const m of report.measurements) measured.set(m.id, m);
    expect(measured.get('upgrade-errors')?.value).toBe(0);
    expect(measured.get('upgrade-replaced')?.value).toBe(3);
    const summary = await l.call('labs:summary', { lab: LAB });
    expect(summary.state).toBe('completed');
    expect(summary.claims.every((c) => c.backed)).toBe(true);
    const table = await l.call('labs:table', {});
    const cell = table.cells.find((c) => c.app === 'microservices' && c.network === 'segmented');
    expect(cell?.labs.find((x) => x.id === LAB)?.state).toBe('completed');
  });

  it('reset of a step restores its start (scale, version, policy); reset of the lab its setup', async () => {
    await l.run('labs:reset', { step: 4 });
    expect(await catalog()).toEqual({ count: 1, versions: ['1'] });
    expect((await l.call('labs:status', {})).step).toBe(4);
    expect(path.basename((await l.call('policy:show', {})).source?.file ?? '')).toBe(
      'microservices-segmented.yaml',
    );
    await l.run('labs:reset', {});
    expect((await l.call('labs:status', {})).step).toBe(1);
    expect(path.basename((await l.call('policy:show', {})).source?.file ?? '')).toBe(
      'microservices-flat.yaml',
    );
    expect(await catalog()).toEqual({ count: 1, versions: ['1'] });
  });

  it('progress survives a new process (a fresh set of services) and exports as JSON and CSV', async () => {
    const other = lab(project);
    const progress = await other.call('labs:progress', {});
    const steps = progress.find((p) => p.lab === LAB)?.steps ?? {};
    expect(steps.baseline?.outcome).toBe('passed');
    expect(steps.enforce?.outcome).toBe('solved');
    const written = await other.call('labs:export', { file: path.join(stateDir, 'student.json') });
    const rows = await other.call('labs:class', { files: [written.json] });
    expect(rows.find((r) => r.step === 'enforce')?.measurements['blast-after-db']).toBe(1);
  });
});
