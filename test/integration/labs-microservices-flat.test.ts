/**
 * Lab 3 (microservices, flat) on the real engine, walked from its start: the first step's
 * checks fail before the student acts (a prediction first, then no load yet); each step, its
 * predictions answered and solved in turn ("Show me"), passes its checks and records its
 * numbers; the numbers support each claim's relation:
 * - capacity at saturation (0.25 CPU per replica in both shapes) grows with the replicas in
 *   both shapes, and per added MB more for catalog ×3 than for the monolith ×3 (its balancer
 *   counted; the callers' growth counted for the microservices);
 * - a release that hangs its process fails requests on every endpoint of the monolith and on
 *   a strict subset of the microservices' (no failed login or sign-up); the roll stops at the
 *   first replica and rolls back in both;
 * - a functional bug (reserve answers 500) breaks checkout alone, in both shapes;
 * - a good release rolls with no failed request in either shape;
 * - a compromised catalog reaches payments-db on the flat network.
 * Reset of a step restores its start, across a change of deployment too. No figure is fixed
 * here beyond what the claims state: the numbers are this machine's.
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

  /**
   * Answers the step's predictions, "Show me", then Check: every condition passes; records the
   * measures (and prints them: the numbers are this machine's); answers the why questions.
   */
  async function solveAndCheck(
    predictions: Record<string, string> = {},
    explains: Record<string, string> = {},
  ): Promise<CheckReport> {
    for (const [question, answer] of Object.entries(predictions))
      await l.call('labs:answer', { question, answer });
    await l.run('labs:solve', {});
    expect((await l.call('labs:status', {})).current?.outcome).toBe('solved');
    const report = await l.call('labs:check', {});
    for (const m of report.measurements) console.log(`${m.id} = ${m.value} ${m.unit} (${m.source})`);
    expect(failing(report)).toEqual([]);
    expect(report.notRecorded).toEqual([]);
    for (const m of report.measurements) measured.set(m.id, m);
    for (const [question, answer] of Object.entries(explains))
      await l.call('labs:answer', { question, answer });
    return report;
  }

  /** The last upgrade task: a roll of version 4 fails with `rolled-back`, naming the replica and what came back. */
  async function lastUpgrade() {
    const upgrades = (await l.call('tasks:list', {})).filter((t) => t.kind === 'deploy:upgrade');
    return upgrades.sort((a, b) => a.startedAt.localeCompare(b.startedAt)).at(-1);
  }

  it('starts: the monolith on a flat network, step 1 is current', async () => {
    await l.run('labs:start', { lab: LAB });
    expect(await l.call('labs:status', {})).toMatchObject({
      lab: LAB,
      step: 1,
      steps: 11,
      stepId: 'capacity-monolith',
    });
    expect(await l.call('deploy:status', {})).toMatchObject({ deployment: 'monolith', healthy: true });
    expect(await policyFile()).toBe('monolith-flat.yaml');
    expect(await replicas('shop')).toEqual({ count: 1, versions: ['1'] });
  });

  it('the first step fails before the student acts: a prediction first, then no search yet', async () => {
    const report = await l.call('labs:check', {});
    expect(report.passed).toBe(false);
    expect(failing(report)[0]).toMatch(/predict first: "mono-gain"/);
    await expect(l.call('labs:next', {})).rejects.toThrow(/has not passed yet/);
    await l.call('labs:answer', { question: 'mono-gain', answer: 'about 3 times' });
    expect(failing(await l.call('labs:check', {}))).toEqual(['no load has run since the step started']);
  });

  it('step 1: the capacity of one monolith copy at a quarter of a CPU, found by the search', async () => {
    await solveAndCheck();
    expect(await replicas('shop')).toEqual({ count: 1, versions: ['1'] });
    expect(value('mono-capacity-1')).toBeGreaterThan(0);
    expect(measured.get('mono-capacity-1')?.source).toMatch(
      /^capacity search on the monolith: [\d.]+ requests\/s served at [\d.]+\/s offered, p95 [\d.]+ ms/,
    );
    expect(value('mono-memory-1')).toBeGreaterThan(0);
  });

  it('step 2: three copies behind the balancer gain capacity; the added MB count the balancer', async () => {
    await l.call('labs:next', {});
    await solveAndCheck({}, { 'what-a-copy-carries': 'every module; the balancer' });
    expect(await replicas('shop')).toEqual({ count: 3, versions: ['1'] });
    expect(measured.get('mono-memory-3')?.source).toBe(
      `memory of 4 containers: ${project}-shop-1, ${project}-shop-2, ${project}-shop-3, ${project}-shop-lb`,
    );
    expect(value('mono-balancing-memory')).toBeGreaterThan(0);
    expect(value('mono-gain-per-replica')).toBeGreaterThan(0);
    expect(value('mono-gain-per-cpu')).toBeCloseTo(value('mono-gain-per-replica') * 4, 1);
    expect(measured.get('mono-gain-per-mb')?.source).toMatch(
      /^\(mono-capacity-3 [\d.]+ − mono-capacity-1 [\d.]+\) \/ \(mono-memory-3 [\d.]+ − mono-memory-1 [\d.]+\)$/,
    );
  });

  it('step 3 (optional): the good release rolls the whole app under load; p95 with and without it', async () => {
    await l.call('labs:next', {});
    await solveAndCheck({ 'mono-v2-p95': 'rise a little (under 2 times)' });
    expect(await replicas('shop')).toEqual({ count: 3, versions: ['2'] });
    expect(value('mono-steady-p95')).toBeGreaterThan(0);
    expect(value('mono-v2-p95')).toBeGreaterThan(0);
  });

  it('step 4: the release that hangs its process fails the monolith beyond catalog, login included; the roll stops and rolls back', async () => {
    await l.call('labs:next', {});
    await solveAndCheck({ 'mono-v4': 'every endpoint, login and sign-up too' });
    const upgrade = await lastUpgrade();
    expect(upgrade).toMatchObject({ state: 'failed', error: { code: 'rolled-back' } });
    expect(upgrade?.error?.message).toMatch(
      /^shop version 4 failed on replica 1 of 3: .+shop-1 stopped answering its readiness check .+ The roll stopped there; every replica runs version 2 again/,
    );
    expect(await replicas('shop')).toEqual({ count: 3, versions: ['2'] });
    expect(value('mono-v4-endpoints')).toBeGreaterThanOrEqual(8);
    // Behind the balancer only the copy that hung fails (1 of 3, until the roll stops): its
    // share of every endpoint's requests, login and sign-up included.
    expect(value('mono-v4-failing')).toBeGreaterThan(1);
    expect(value('mono-v4-login-errors')).toBeGreaterThan(0);
    expect(value('mono-v4-replaced')).toBe(1);
    await l.call('labs:answer', { question: 'why-login', answer: 'one process' });
  });

  it('step 5 (optional): the functional bug breaks checkout alone in the monolith', async () => {
    await l.call('labs:next', {});
    await solveAndCheck({ 'mono-v3': 'checkout only' });
    expect(value('mono-v3-failing')).toBe(1);
    expect(value('mono-v3-orders-errors')).toBeGreaterThan(0);
  });

  it('step 6: the microservices, catalog ×1 at a quarter of a CPU, at saturation', async () => {
    await l.call('labs:next', {});
    await l.call('labs:answer', { question: 'ms-gain', answer: 'higher' });
    const before = await l.call('labs:check', {});
    expect(failing(before)).toEqual(
      expect.arrayContaining(['monolith-flat.yaml is in force; the step expects microservices-flat.yaml']),
    );
    await solveAndCheck();
    expect(await l.call('deploy:status', {})).toMatchObject({ deployment: 'microservices', healthy: true });
    expect(await policyFile()).toBe('microservices-flat.yaml');
    expect(await replicas('catalog')).toEqual({ count: 1, versions: ['1'] });
    expect(value('ms-capacity-1')).toBeGreaterThan(0);
    expect(measured.get('ms-capacity-1')?.source).toMatch(/^capacity search on the microservices: /);
  });

  it('step 7: catalog ×3 gains capacity with no balancer container; per added MB more than the monolith', async () => {
    await l.call('labs:next', {});
    await solveAndCheck({}, { 'why-per-mb': 'same CPU; a copy carries the whole app' });
    const status = await l.call('deploy:status', {});
    expect(status.balancer).toBeUndefined();
    expect(await replicas('catalog')).toEqual({ count: 3, versions: ['1'] });
    expect(await replicas('cart')).toEqual({ count: 1, versions: ['1'] });
    expect(value('ms-gain-per-replica')).toBeGreaterThan(0);
    expect(value('ms-gain-per-mb')).toBeGreaterThan(value('mono-gain-per-mb'));
    expect(value('ms-balancing-memory')).toBeLessThan(value('mono-balancing-memory'));
  });

  it('step 8 (optional): the good release rolls catalog alone under load', async () => {
    await l.call('labs:next', {});
    await solveAndCheck({ 'ms-v2-p95': 'less' });
    expect(await replicas('catalog')).toEqual({ count: 3, versions: ['2'] });
    expect(value('ms-v2-errors')).toBe(0);
  });

  it('step 9: the release that hangs its process fails a strict subset of the endpoints, login untouched; the roll rolls back', async () => {
    await l.call('labs:next', {});
    const report = await solveAndCheck({
      'ms-v4': "the catalog's and those that call it (cart, checkout)",
    });
    const upgrade = await lastUpgrade();
    expect(upgrade).toMatchObject({ state: 'failed', error: { code: 'rolled-back' } });
    expect(upgrade?.error?.message).toMatch(
      /^catalog version 4 failed on replica 1 of 3: .+catalog-1 stopped answering/,
    );
    expect(report.results.find((r) => r.kind === 'unchanged')?.message).toMatch(
      /^\d+ containers untouched: same id, same start time, same image$/,
    );
    expect(await replicas('catalog')).toEqual({ count: 3, versions: ['2'] });
    expect(value('ms-v4-failing')).toBeGreaterThan(0);
    expect(value('ms-v4-failing')).toBeLessThan(value('ms-v4-endpoints'));
    expect(value('ms-v4-login-errors')).toBe(0);
    expect(value('ms-v4-replaced')).toBe(1);
    expect(measured.get('ms-v4-failing')?.source).not.toMatch(
      /POST \/api\/login|POST \/api\/users|GET \/api\/me/,
    );
  });

  it('step 10 (optional): the functional bug breaks checkout alone in the microservices too', async () => {
    await l.call('labs:next', {});
    await solveAndCheck();
    expect(value('ms-v3-failing')).toBe(1);
    expect(value('ms-v3-orders-errors')).toBeGreaterThan(0);
  });

  it('step 11: both attackers still read every data domain on the flat network; every claim is supported', async () => {
    await l.call('labs:next', {});
    expect(failing(await l.call('labs:check', {}))).toEqual([
      'predict first: "code-domains" (answer it before you measure; a prediction is final)',
      'no answer to "databases" yet',
    ]);
    await l.call('labs:answer', { question: 'code-domains', answer: 'all 5' });
    expect(failing(await l.call('labs:check', {}))).toEqual(['no answer to "databases" yet']);
    await solveAndCheck({}, { 'why-not-isolated': 'the network is flat' });
    expect(value('blast-flat-db')).toBe(5);
    expect(value('blast-flat')).toBeGreaterThanOrEqual(10);
    expect(measured.get('code-domains')).toMatchObject({
      value: 5,
      attacker: 'catalog-code',
      app: 'microservices',
    });
    expect(measured.get('jumpbox-domains')).toMatchObject({ value: 5, attacker: 'jumpbox' });
    const cell = (await l.call('labs:table', {})).cells.find(
      (c) => c.app === 'microservices' && c.network === 'flat',
    );
    expect(cell?.attackers).toMatchObject({
      jumpbox: { domains: 5, lab: LAB, step: 'compromised-catalog' },
      'catalog-code': { domains: 5, workloads: value('blast-flat'), lab: LAB, step: 'compromised-catalog' },
    });

    const summary = await l.call('labs:summary', { lab: LAB });
    expect(summary.state).toBe('completed');
    for (const c of summary.claims) console.log(`${c.verdict}: ${c.text.slice(0, 60)}...`);
    expect(summary.claims.map((c) => c.verdict)).toEqual(summary.claims.map(() => 'supported'));
    expect(summary.claims[0]!.article).toBe('a more targeted and efficient scalability model');
    expect(summary.claims[2]!.prediction).toMatchObject({
      answer: "the catalog's and those that call it (cart, checkout)",
    });
  });

  it("reset of step 9 restores its start: catalog ×3 at version 2, the flat policy, the step's progress", async () => {
    await l.run('labs:reset', { step: 9 });
    expect((await l.call('labs:status', {})).step).toBe(9);
    expect(await replicas('catalog')).toEqual({ count: 3, versions: ['2'] });
    expect(await replicas('cart')).toEqual({ count: 1, versions: ['1'] });
    expect(await policyFile()).toBe('microservices-flat.yaml');
  });

  it('reset of step 6 crosses back to its start: the monolith ×3 at version 3 behind its balancer, its flat policy', async () => {
    await l.run('labs:reset', { step: 6 });
    expect((await l.call('labs:status', {})).step).toBe(6);
    const status = await l.call('deploy:status', {});
    expect(status).toMatchObject({ deployment: 'monolith', healthy: true });
    expect(status.balancer).toMatchObject({ target: 'shop', state: 'running' });
    expect(await replicas('shop')).toEqual({ count: 3, versions: ['3'] });
    expect(await policyFile()).toBe('monolith-flat.yaml');
    expect(failing(await l.call('labs:check', {}))).toContain('catalog has 0 replicas; the step expects 1');
  });
});
