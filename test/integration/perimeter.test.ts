/**
 * The perimeter layout on the real engine: a network per segment, one router between them,
 * the same shipped policy enforced there. What crosses a segment is decided like under
 * microsegmentation; what stays inside one is never seen. That difference is the lesson.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAME_SEGMENT } from '../../electron/firewall/perimeter';
import type { ProbeReport } from '../../electron/probe/matrix';
import { policyPath } from '../shop-policies';
import type { Lab } from './shop-support';
import { lab, prepare, shopClient, storefront } from './shop-support';
import { docker } from './support';

const project = 'microlab-it-perimeter';
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'microlab-it-perimeter-'));
process.env.MICROLAB_STATE_DIR = stateDir;

let l: Lab;

beforeAll(async () => {
  l = lab(project);
  await l.call('resources:down', {});
  await prepare(l);
});

afterAll(async () => {
  l.services.firewall.close();
  await l.call('resources:down', {});
  rmSync(stateDir, { recursive: true, force: true });
});

function cell(report: ProbeReport, src: string, dst: string, port: number) {
  const found = report.cells.find((c) => c.src === src && c.dst === dst && c.port.port === port);
  if (!found) throw new Error(`no probe from ${src} to ${dst}:${port}`);
  return found;
}

const mismatches = (report: ProbeReport) =>
  report.cells
    .filter((c) => !c.match)
    .map((c) => `${c.src} -> ${c.dst}:${c.port.port} expected ${c.expected}, saw ${c.observed}`);

describe('the microservices behind a perimeter firewall', () => {
  it('starts with a network per segment and the router, and the shop works through it', async () => {
    const result = await l.run('deploy:up', { deployment: 'microservices', port: 0, layout: 'perimeter' });
    expect(result).toMatch(/^microservices is up/);
    const status = await l.call('deploy:status', {});
    expect(status).toMatchObject({ deployment: 'microservices', layout: 'perimeter', healthy: true });
    expect(status.calls).toContainEqual({ src: 'orders', dst: 'payments', port: 8080 });
    expect(status.workloads.find((w) => w.workload === 'gateway')).toMatchObject({
      entry: true,
      scalable: false,
    });
    // one fixed address per workload: nothing scales or upgrades in this layout
    expect(status.workloads.filter((w) => w.scalable || w.upgradable)).toEqual([]);
    expect(status.networks.map((n) => n.name)).toEqual(
      ['edge', 'seg-edge', 'seg-identity', 'seg-pci', 'seg-shop'].map((n) => `${project}-${n}`),
    );
    const router = await docker.listContainers({
      filters: { label: [`io.microlab.project=${project}`, 'io.microlab.role=perimeter'] },
    });
    expect(router).toHaveLength(1);
    // no per-workload firewall in this layout
    const sidecars = await docker.listContainers({
      all: true,
      filters: { label: [`io.microlab.project=${project}`, 'io.microlab.role=firewall'] },
    });
    expect(sidecars).toEqual([]);

    const shop = shopClient(await storefront(l));
    const account = { email: `perimeter-${Date.now()}@example.test`, password: 'correct horse', name: 'Ada' };
    expect((await shop('POST', '/api/users', { body: account })).status).toBe(201);
    const { token } = (await shop('POST', '/api/login', { body: account })).body as { token: string };
    expect(
      (await shop('POST', '/api/cart/items', { token, body: { productId: 'grinder', quantity: 1 } })).status,
    ).toBeLessThan(300);
    const order = await shop('POST', '/api/orders', {
      token,
      body: { card: { number: '4242 4242 4242 4242', expiry: '12/30', cvc: '123' } },
    });
    expect(order.status).toBe(201);
  });

  it('enforces the segmented policy between segments, and cannot see inside one', async () => {
    const applied = await l.call('policy:apply', { file: policyPath('microservices-segmented.yaml') });
    expect(applied.report.tables).toEqual([
      expect.objectContaining({ workload: 'perimeter-fw', loaded: true }),
    ]);

    const report = await l.call('probe:run', {});
    expect(mismatches(report)).toEqual([]);
    // across segments: decided as the policy says
    expect(cell(report, 'orders', 'payments', 8080)).toMatchObject({
      observed: 'connected',
      ruleId: expect.not.stringMatching(SAME_SEGMENT),
    });
    expect(cell(report, 'gateway', 'payments', 8080)).toMatchObject({
      expected: 'timeout',
      observed: 'timeout',
    });
    expect(cell(report, 'gateway', 'payments-db', 5432)).toMatchObject({ observed: 'timeout' });
    // inside the "shop" segment: the policy denies catalog -> orders, the perimeter never sees it
    expect(cell(report, 'catalog', 'orders', 8080)).toMatchObject({
      observed: 'connected',
      ruleId: SAME_SEGMENT,
    });
    expect(cell(report, 'cart', 'orders-db', 5432)).toMatchObject({
      observed: 'connected',
      ruleId: SAME_SEGMENT,
    });

    // the router logs what it decides, by workload and rule
    const flows = await l.call('flows:list', {});
    expect(
      flows.filter((f) => f.seenBy === 'perimeter-fw' && f.src === 'gateway' && f.dst === 'payments'),
    ).toContainEqual(
      expect.objectContaining({ direction: 'forward', port: 8080, verdict: 'denied', ruleId: 'default' }),
    );
    expect(
      flows.filter((f) => f.src === 'orders' && f.dst === 'payments' && f.port === 8080).at(-1),
    ).toMatchObject({
      seenBy: 'perimeter-fw',
      verdict: 'allowed',
      // the rule that allows it now, not one of the table loaded before (the router's trace
      // monitor starts again after each load, so it knows the new rules' comments)
      ruleId: cell(report, 'orders', 'payments', 8080).ruleId,
    });
    expect(cell(report, 'orders', 'payments', 8080).ruleId).toBe('orders-to-payments');
    // nothing logs a flow inside a segment: the perimeter never sees it
    expect(flows.filter((f) => f.src === 'catalog' && f.dst === 'orders')).toEqual([]);

    // the router counts what it decides
    const counters = await l.call('firewall:counters', {});
    expect(counters.workloads).toEqual([expect.objectContaining({ workload: 'perimeter-fw' })]);
    expect(counters.rules.find((r) => r.ruleId === 'default')?.packets).toBeGreaterThan(0);

    const explained = await l.call('policy:explain', { src: 'catalog', dst: 'orders', port: 8080 });
    expect(explained.verdict).toBe('denied'); // what per-workload enforcement of the same policy would do
  });

  it('policy clear opens the router again: every cross-segment flow passes', async () => {
    const report = await l.call('policy:clear', {});
    expect(report.tables).toEqual([expect.objectContaining({ workload: 'perimeter-fw', loaded: true })]);
    expect((await l.call('policy:show', {})).source).toBeUndefined();
    const probed = await l.call('probe:run', {});
    expect(mismatches(probed)).toEqual([]);
    expect(cell(probed, 'gateway', 'payments-db', 5432).observed).toBe('connected');
  });

  it('refuses to scale, saying why and what to do', async () => {
    await expect(
      l.call('deploy:scale', { service: 'catalog', replicas: 2 }).then((t) => l.services.tasks.wait(t.id)),
    ).resolves.toMatchObject({
      state: 'failed',
      error: { code: 'perimeter-fixed', hint: expect.stringContaining('microlab up microservices') },
    });
  });

  it('switching back to the flat layout removes the router and the segment networks', async () => {
    await l.run('deploy:up', { deployment: 'microservices', port: 0 });
    const status = await l.call('deploy:status', {});
    expect(status).toMatchObject({ layout: 'flat', healthy: true });
    expect(status.networks.map((n) => n.name)).toEqual([`${project}-edge`, `${project}-lab`]);
    const router = await docker.listContainers({
      all: true,
      filters: { label: [`io.microlab.project=${project}`, 'io.microlab.role=perimeter'] },
    });
    expect(router).toEqual([]);
  });
});
