/**
 * Labs 1 and 2 (the monolith, flat then segmented) on the real engine, on one monolith: each
 * lab starts, its first step fails before the student acts, every step solved in turn passes
 * its checks, and the measurements tell the story (the jumpbox's blast radius falls, no app
 * container is touched). Lab 2's reset of a step brings back its start's policy; the lab CLI
 * prints the JSON the README documents and exits 1 on a failing check.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckReport, Measurement } from '../../electron/api/contract';
import { cli } from './support';
import { shopLabForFile } from './shop-support';

const project = 'microlab-it-labs-mono';
const { l, stateDir } = shopLabForFile(project, { labPort: 0 });
const env = { MICROLAB_PROJECT: project, MICROLAB_STATE_DIR: stateDir, MICROLAB_LAB_PORT: '0' };

const failing = (r: CheckReport) => r.results.filter((x) => !x.passed).map((x) => x.message);

/** Solves every step from the current one on, checking that each fails first and passes after. */
async function walk(measured: Map<string, Measurement>): Promise<void> {
  for (;;) {
    const status = await l.call('labs:status', {});
    const before = await l.call('labs:check', {});
    expect(before.passed, `step ${status.stepId} passed before the student acted`).toBe(false);
    await l.run('labs:solve', {});
    const after = await l.call('labs:check', {});
    expect(failing(after), `step ${status.stepId}`).toEqual([]);
    expect(after.notRecorded).toEqual([]);
    for (const m of after.measurements) measured.set(m.id, m);
    if (status.step === status.steps) return;
    await l.call('labs:next', {});
  }
}

describe('labs 1 and 2 on the real engine', () => {
  const measured = new Map<string, Measurement>();

  it('lab 1: the CLI lists the labs as JSON, starts lab 1 and says where the student is', async () => {
    const list = await cli(['lab', 'list', '--json'], env);
    expect(list.code).toBe(0);
    const labs = JSON.parse(list.stdout) as {
      id: string;
      quadrant: { app: string; network: string };
      steps: number;
    }[];
    expect(labs.find((x) => x.id === 'monolith-flat')).toMatchObject({
      title: 'Monolith, flat network',
      quadrant: { app: 'monolith', network: 'flat' },
      steps: 3,
    });
    // Started from the CLI: the lab's introduction, then the first step.
    const started = await cli(['lab', 'start', 'monolith-flat'], env);
    expect(started.code).toBe(0);
    expect(started.stdout).toContain('By the end you will have measured the **blast radius**');
    expect(started.stdout).toContain('Find the database credentials');
    const status = await cli(['lab', 'status', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ lab: 'monolith-flat', step: 1, steps: 3 });
    const check = await cli(['lab', 'check'], env);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('no answer to "password" yet');
  });

  it('lab 1: every step fails first and passes once solved; the jumpbox reaches the database', async () => {
    await walk(measured);
    expect(measured.get('blast-flat')?.value).toBeGreaterThanOrEqual(3);
    expect(measured.get('blast-flat-db')?.value).toBe(1);
    const summary = await l.call('labs:summary', { lab: 'monolith-flat' });
    expect(summary.state).toBe('completed');
    expect(summary.steps.map((s) => s.outcome)).toEqual(['solved', 'solved', 'solved']);
  });

  it('lab 2: every step fails first and passes once solved; blast radius down, app untouched', async () => {
    await l.run('labs:start', { lab: 'monolith-segmented' });
    expect((await l.call('deploy:status', {})).deployment).toBe('monolith');
    await walk(measured);
    expect(measured.get('blast-before')?.value).toBeGreaterThanOrEqual(3);
    expect(measured.get('blast-before-db')?.value).toBe(1);
    expect(measured.get('blast-after-db')?.value).toBe(0);
    expect(measured.get('blast-after')!.value).toBeLessThan(measured.get('blast-before')!.value);
    expect(measured.get('app-replaced')?.value).toBe(0);
    const check = await cli(['lab', 'check'], env);
    expect(check.code).toBe(0);
  });

  it('lab 2: reset to step 2 brings back the monitor-mode skeleton; the lab reset, the flat policy', async () => {
    await l.run('labs:reset', { step: 2 });
    const show = await l.call('policy:show', {});
    expect(show.source?.mode).toBe('monitor');
    expect(show.workloads.find((w) => w.name === 'shop')?.mode).toBe('monitor');
    expect((await l.call('labs:status', {})).step).toBe(2);
    await l.run('labs:reset', {});
    const flat = await l.call('policy:show', {});
    expect(path.basename(flat.source?.file ?? '')).toBe('monolith-flat.yaml');
    expect((await l.call('labs:status', {})).step).toBe(1);
  });

  it("the 2×2 table holds both monolith labs with the student's numbers", async () => {
    const table = await l.call('labs:table', {});
    const flat = table.cells.find((c) => c.app === 'monolith' && c.network === 'flat')?.labs[0];
    const seg = table.cells.find((c) => c.app === 'monolith' && c.network === 'segmented')?.labs[0];
    expect(flat?.state).toBe('completed');
    expect(seg?.state).toBe('completed');
    expect(seg?.claims.every((c) => c.backed)).toBe(true);
  });
});
