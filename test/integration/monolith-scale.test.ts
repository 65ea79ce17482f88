/**
 * Scaling the monolith, on the real engine: it scales only as a whole, its copies behind a
 * load balancer that takes the storefront's place (same address), sharing one DNS name like
 * the microservices' replicas; the firewall's rules follow the copies; a rolling upgrade
 * behind the balancer loses no request; `down` takes the balancer too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, docker, repoRoot, requestsServed } from './support';
import type { Lab } from './shop-support';
import { lab, prepare, shopClient, startLoad, storefront } from './shop-support';

const project = 'microlab-it-mono-scale';
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'microlab-it-mono-scale-'));
process.env.MICROLAB_STATE_DIR = stateDir;
let l: Lab;
let url = '';

beforeAll(async () => {
  l = lab(project);
  await l.call('resources:down', {});
  await prepare(l);
  await l.run('deploy:up', { deployment: 'monolith', port: 0 });
  url = await storefront(l);
});

afterAll(async () => {
  l.services.firewall.close();
  await l.call('resources:down', {});
  rmSync(stateDir, { recursive: true, force: true });
});

const shops = async () => (await l.call('deploy:status', {})).workloads.filter((w) => w.workload === 'shop');

describe('scaling the monolith', () => {
  it('refuses to scale one of its modules: the monolith scales as a whole', async () => {
    const task = await l.call('deploy:scale', { service: 'catalog', replicas: 3 });
    expect(await l.services.tasks.wait(task.id)).toMatchObject({
      state: 'failed',
      error: {
        code: 'not-scalable',
        message: "catalog is a module inside the monolith's shop: it cannot be scaled alone",
        hint: expect.stringContaining('`microlab scale shop 3` runs 3 copies of the whole app'),
      },
    });
  });

  it('`scale app 3`: three copies of the whole app behind a load balancer, at the same storefront address', async () => {
    await l.call('policy:apply', { file: path.join(repoRoot, 'labs/policies/monolith-segmented.yaml') });
    const result = await l.run('deploy:scale', { service: 'app', replicas: 3 });
    expect(result).toBe(`shop: 3 replicas behind the load balancer (was 1); the storefront stays at ${url}`);

    const status = await l.call('deploy:status', {});
    expect(status.storefront).toBe(url);
    expect(status.healthy).toBe(true);
    expect(status.balancer).toMatchObject({
      container: `${project}-shop-lb`,
      target: 'shop',
      state: 'running',
      health: 'healthy',
    });
    const replicas = status.workloads.filter((w) => w.workload === 'shop');
    expect(replicas.map((w) => [w.container, w.health, w.entry, w.scalable])).toEqual([
      [`${project}-shop-1`, 'healthy', true, true],
      [`${project}-shop-2`, 'healthy', true, true],
      [`${project}-shop-3`, 'healthy', true, true],
    ]);
    // the balancer is not a workload: the firewall and the matrix see only the replicas
    expect(status.workloads.some((w) => w.container.endsWith('-lb'))).toBe(false);

    // every copy serves the storefront's requests (the load generator reaches it by name on the edge)
    const { done } = await startLoad(l, { rate: 10, duration: 6, mix: { browse: 1 } });
    const report = await done();
    expect(report.endpoints.find((e) => e.endpoint === 'all')?.errors).toBe(0);
    for (const r of replicas) expect(await requestsServed(r.container, '/api/products')).toBeGreaterThan(0);
    expect((await shopClient(url)('GET', '/api/products')).status).toBe(200);
  });

  it('the firewall follows the copies: each has its table, and the matrix equals the policy', async () => {
    const show = await l.call('policy:show', {});
    expect(show.workloads.find((w) => w.name === 'shop')).toMatchObject({ instances: 3, mode: 'enforce' });
    const probe = await l.call('probe:run', {});
    expect(
      probe.cells.filter((c) => !c.match).map((c) => `${c.src} -> ${c.dstContainer}:${c.port.port}`),
    ).toEqual([]);
    // the copies of one app are hosts of their own to the firewall: the policy decides between them
    // (the segmented policy's storefront-public lets anyone, a sibling too, reach the app's port)
    const siblings = probe.cells.filter((c) => c.src === 'shop' && c.dst === 'shop');
    expect(siblings.map((c) => [c.dstContainer, c.observed, c.ruleId]).sort()).toEqual([
      [`${project}-shop-2`, 'connected', 'storefront-public'],
      [`${project}-shop-3`, 'connected', 'storefront-public'],
    ]);
  });

  it('a rolling upgrade behind the balancer redeploys every copy of the whole app, and no request fails', async () => {
    const { done } = await startLoad(l, { rate: 5, duration: 20, mix: { browse: 2, account: 1 } });
    const result = await l.run('deploy:upgrade', { service: 'shop', version: 2 });
    expect(result).toMatch(/^shop: 3 replicas rolled to version 2 in /);
    const report = await done();
    expect(report.endpoints.find((e) => e.endpoint === 'all')).toMatchObject({ errors: 0 });
    expect((await shops()).map((w) => [w.container, w.version, w.health])).toEqual([
      [`${project}-shop-1`, '2', 'healthy'],
      [`${project}-shop-2`, '2', 'healthy'],
      [`${project}-shop-3`, '2', 'healthy'],
    ]);
    const products = (await shopClient(url)('GET', '/api/products')).body as { rating?: number }[];
    expect(products.every((p) => typeof p.rating === 'number')).toBe(true);
  });

  it('scales back to one copy behind the balancer; `up` keeps it all; `down` removes the balancer too', async () => {
    expect(await l.run('deploy:scale', { service: 'shop', replicas: 1 })).toBe(
      'shop: 1 replica behind the load balancer (was 3)',
    );
    await l.run('deploy:up', { deployment: 'monolith', port: 0 });
    const status = await l.call('deploy:status', {});
    expect(status.storefront).toBe(url);
    expect(status.balancer?.health).toBe('healthy');
    expect((await shops()).map((w) => w.container)).toEqual([`${project}-shop-1`]);
    expect((await shopClient(url)('GET', '/api/version')).status).toBe(200);

    const down = await cli(['down'], { MICROLAB_PROJECT: project, MICROLAB_STATE_DIR: stateDir });
    expect(down.stdout).toContain(`removed container ${project}-shop-lb`);
    await expect(docker.getContainer(`${project}-shop-lb`).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
  });
});
