/**
 * Labs 1 and 2 (the monolith, flat then segmented) on the real engine, on one monolith: each
 * lab starts, its first step fails before the student acts, every step solved in turn passes
 * its checks, and the measurements tell the story (the jumpbox's blast radius falls, no app
 * container is touched). Lab 2's reset of a step brings back its start's policy; the lab CLI
 * prints the JSON the README documents and exits 1 on a failing check.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Measurement } from '../../electron/api/contract';
import { cli } from './support';
import { shopLabForFile, walkLab } from './shop-support';

const project = 'microlab-it-labs-mono';
const { l, stateDir } = shopLabForFile(project, { labPort: 0 });
const env = { MICROLAB_PROJECT: project, MICROLAB_STATE_DIR: stateDir, MICROLAB_LAB_PORT: '0' };

describe('labs 1 and 2 on the real engine', () => {
  let lab1 = new Map<string, Measurement>();
  let lab2 = new Map<string, Measurement>();

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
      steps: 4,
    });
    // Started from the CLI: the lab's introduction, then the first step.
    const started = await cli(['lab', 'start', 'monolith-flat'], env);
    expect(started.code).toBe(0);
    expect(started.stdout).toContain(
      'By the end you will have measured, for both attackers, the **blast radius**',
    );
    expect(started.stdout).toContain('Find the database credentials');
    const status = await cli(['lab', 'status', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ lab: 'monolith-flat', step: 1, steps: 4 });
    const check = await cli(['lab', 'check'], env);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('no answer to "password" yet');
    // The image's password, passed around the room, is not this deployment's.
    expect((await cli(['lab', 'answer', 'password', 'shop'], env)).code).toBe(0);
    const passedAround = await cli(['lab', 'check'], env);
    expect(passedAround.code).toBe(1);
    expect(passedAround.stdout).toContain('"shop" is not the answer to "password"');
  });

  it('lab 1: every step fails first and passes once solved; both attackers read all five data domains', async () => {
    lab1 = await walkLab(l);
    expect(lab1.get('jumpbox-workloads')?.value).toBeGreaterThanOrEqual(3);
    expect(lab1.get('jumpbox-domains')).toMatchObject({ value: 5, attacker: 'jumpbox', metric: 'domains' });
    // Found on the jumpbox itself: the operator's ~/.pgpass, not the app's environment.
    expect(lab1.get('jumpbox-domains')?.source).toMatch(/shop@shop-db \(~\/\.pgpass\)/);
    expect(lab1.get('jumpbox-domains')?.source).toMatch(/: cart, catalog, orders, payments, users$/);
    expect(lab1.get('code-domains')).toMatchObject({ value: 5, attacker: 'catalog-code', app: 'monolith' });
    expect(lab1.get('code-domains')?.source).toMatch(/^shop found shop@shop-db \(DATABASE_URL\)/);
    const summary = await l.call('labs:summary', { lab: 'monolith-flat' });
    expect(summary.state).toBe('completed');
    expect(summary.steps.map((s) => s.outcome)).toEqual(['solved', 'solved', 'solved', 'solved']);
    expect(summary.claims.map((c) => c.verdict)).toEqual(['supported']);
    expect(summary.claims[0]!.prediction?.answer).toBe('0');
  });

  it('lab 2: every step fails first and passes once solved; the jumpbox loses every domain, the compromised monolith keeps them all', async () => {
    await l.run('labs:start', { lab: 'monolith-segmented' });
    expect((await l.call('deploy:status', {})).deployment).toBe('monolith');
    lab2 = await walkLab(l);
    expect(lab2.get('domains-before')?.value).toBe(5);
    expect(lab2.get('jumpbox-domains')).toMatchObject({ value: 0, attacker: 'jumpbox' });
    expect(lab2.get('jumpbox-workloads')!.value).toBeLessThan(lab2.get('blast-before')!.value);
    expect(lab2.get('code-domains')).toMatchObject({ value: 5, attacker: 'catalog-code', app: 'monolith' });
    expect(lab2.get('app-replaced')?.value).toBe(0);
    const summary = await l.call('labs:summary', { lab: 'monolith-segmented' });
    expect(summary.claims.map((c) => c.verdict)).toEqual(['supported', 'supported', 'supported']);
    const check = await cli(['lab', 'check'], env);
    expect(check.code).toBe(0);
  });

  it('a prediction is final, and one made after the step is refused', async () => {
    const status = await l.call('labs:status', {});
    expect(status.current?.predictions?.['code-after']?.answer).toBe('0');
    await expect(l.call('labs:answer', { question: 'code-after', answer: 'all 5' })).rejects.toThrow(
      /was recorded at .*: "0"/,
    );
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

  it("the 2×2 table holds both monolith labs, with both attackers' figures in each cell", async () => {
    const table = await l.call('labs:table', {});
    const cell = (network: string) => table.cells.find((c) => c.app === 'monolith' && c.network === network)!;
    expect(cell('flat').labs[0]?.state).toBe('completed');
    expect(cell('segmented').labs[0]?.state).toBe('completed');
    expect(cell('segmented').labs[0]?.claims.every((c) => c.verdict === 'supported')).toBe(true);
    expect(cell('flat').attackers).toMatchObject({
      jumpbox: { domains: 5, lab: 'monolith-flat' },
      'catalog-code': { domains: 5, lab: 'monolith-flat', step: 'compromised-code' },
    });
    expect(cell('segmented').attackers).toMatchObject({
      jumpbox: { domains: 0, lab: 'monolith-segmented', step: 'enforce' },
      'catalog-code': { domains: 5, lab: 'monolith-segmented', step: 'compromised-monolith' },
    });
    const cli2x2 = await cli(['lab', 'table', '--json'], env);
    expect(cli2x2.code).toBe(0);
    const cells = JSON.parse(cli2x2.stdout) as {
      app: string;
      network: string;
      attackers: Record<string, unknown>;
    }[];
    expect(cells.find((c) => c.app === 'microservices' && c.network === 'flat')?.attackers).toEqual({
      jumpbox: null,
      'catalog-code': null,
    });
  });
});
