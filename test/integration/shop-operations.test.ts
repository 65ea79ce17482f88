/**
 * Operating the microservices on the real engine: scaling (new replicas get traffic), a
 * rolling upgrade under load (nothing that does not touch the upgraded service fails), and
 * a killed container (status says so, `up` brings it back).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadReport } from '../../electron/api/contract';
import { docker, requestsServed } from './support';
import type { Lab } from './shop-support';
import { lab, prepare, shopClient, startLoad, storefront } from './shop-support';

const project = 'microlab-it-shop-ops';
let l: Lab;

beforeAll(async () => {
  l = lab(project);
  await l.call('resources:down', {});
  await prepare(l);
  await l.run('deploy:up', { deployment: 'microservices', port: 0 });
});

afterAll(async () => {
  await l.call('resources:down', {});
});

const endpoint = (report: LoadReport, name: string) => {
  const found = report.endpoints.find((e) => e.endpoint === name);
  if (!found) throw new Error(`${name} saw no requests: ${JSON.stringify(report.endpoints)}`);
  return found;
};

describe('operating the microservices', () => {
  it('after `scale catalog 3`, all three replicas receive requests under load', async () => {
    const result = await l.run('deploy:scale', { service: 'catalog', replicas: 3 });
    expect(result).toBe('catalog: 3 replicas (was 1)');
    const status = await l.call('deploy:status', {});
    const catalogs = status.workloads.filter((w) => w.workload === 'catalog');
    expect(catalogs.map((w) => [w.container, w.health])).toEqual([
      [`${project}-catalog-1`, 'healthy'],
      [`${project}-catalog-2`, 'healthy'],
      [`${project}-catalog-3`, 'healthy'],
    ]);
    expect(new Set(catalogs.map((w) => w.ip)).size).toBe(3);

    const load = await startLoad(l, { rate: 30, duration: 5, mix: { browse: 1 } });
    const report = await load.done();
    expect(endpoint(report, 'all').errors).toBe(0);
    for (const c of catalogs) expect(await requestsServed(c.container, '/catalog/')).toBeGreaterThan(0);
  });

  it('rolls catalog to version 2 under load: requests that do not touch catalog never fail', async () => {
    const load = await startLoad(l, { rate: 20, duration: 15, mix: { account: 2, browse: 2 } });
    const result = await l.run('deploy:upgrade', { service: 'catalog', version: 2 });
    expect(result).toMatch(/^catalog: 3 replicas rolled to version 2/);
    const report = await load.done();

    for (const name of ['GET /api/me', 'GET /api/orders']) {
      expect(endpoint(report, name).count).toBeGreaterThan(0);
      expect(endpoint(report, name)).toMatchObject({ endpoint: name, errors: 0 });
    }
    const status = await l.call('deploy:status', {});
    const catalogs = status.workloads.filter((w) => w.workload === 'catalog');
    expect(catalogs.map((w) => [w.container, w.version, w.health])).toEqual([
      [`${project}-catalog-1`, '2', 'healthy'],
      [`${project}-catalog-2`, '2', 'healthy'],
      [`${project}-catalog-3`, '2', 'healthy'],
    ]);
    expect(status.workloads.find((w) => w.workload === 'orders')?.version).toBe('1');
    const api = shopClient(await storefront(l));
    const products = (await api('GET', '/api/products')).body as { rating?: number }[];
    expect(products.every((p) => typeof p.rating === 'number')).toBe(true);
    expect((await api('GET', '/api/version')).body).toMatchObject({
      parts: { catalog: '2.0.0', orders: '1.0.0' },
    });
  });

  it('reports a killed service container unhealthy, and `up` brings it back', async () => {
    const victim = `${project}-cart-1`;
    await docker.getContainer(victim).kill();
    await docker.getContainer(victim).wait({ condition: 'not-running' });
    const status = await l.call('deploy:status', {});
    expect(status.healthy).toBe(false);
    expect(status.workloads.find((w) => w.container === victim)).toMatchObject({
      state: 'exited',
      health: 'unhealthy',
    });

    await l.run('deploy:up', { deployment: 'microservices', port: 0 });
    const after = await l.call('deploy:status', {});
    expect(after.healthy).toBe(true);
    expect(after.workloads.find((w) => w.container === victim)).toMatchObject({
      state: 'running',
      health: 'healthy',
    });
    // up kept the scaled and upgraded catalog as it was.
    expect(after.workloads.filter((w) => w.workload === 'catalog').map((w) => w.version)).toEqual([
      '2',
      '2',
      '2',
    ]);
    const api = shopClient(await storefront(l));
    expect((await api('GET', '/api/version')).status).toBe(200);
  });

  it('scales back down, draining the replicas it removes', async () => {
    expect(await l.run('deploy:scale', { service: 'catalog', replicas: 1 })).toBe(
      'catalog: 1 replica (was 3)',
    );
    const status = await l.call('deploy:status', {});
    expect(status.workloads.filter((w) => w.workload === 'catalog').map((w) => w.container)).toEqual([
      `${project}-catalog-1`,
    ]);
  });

  it('refuses to scale a database, and says why', async () => {
    await expect(
      l.call('deploy:scale', { service: 'catalog-db', replicas: 2 }).then((t) => l.services.tasks.wait(t.id)),
    ).resolves.toMatchObject({
      state: 'failed',
      error: {
        code: 'not-scalable',
        message: 'catalog-db cannot be scaled in the microservices (a database has one primary)',
      },
    });
  });
});
