import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { composeFile } from '../../electron/topology/compose';
import type { Deployment } from '../../electron/topology/declarations';
import {
  deployments,
  microservices,
  monolith,
  startOrder,
  validateDeployment,
} from '../../electron/topology/declarations';
import { pickSubnet } from '../../electron/topology/apply';
import { workloadFromLabels } from '../../electron/topology/workload';

describe('the declarations', () => {
  it.each(Object.values(deployments))('$name is sound', (d) => {
    expect(validateDeployment(d)).toEqual([]);
  });

  it('finds what is wrong in a broken declaration', () => {
    const broken: Deployment = {
      ...monolith,
      workloads: [
        { ...monolith.workloads[0]!, dependsOn: ['shop-db', 'nowhere'], networks: ['lab', 'dmz'] },
        { ...monolith.workloads[1]!, dependsOn: ['shop'] },
      ],
    };
    const problems = validateDeployment(broken);
    expect(problems).toContain('shop joins unknown network dmz');
    expect(problems).toContain('shop depends on unknown nowhere');
    expect(problems.some((p) => p.startsWith('dependency cycle among'))).toBe(true);
  });

  it('starts databases first, then the services, the gateway, and the jumpbox last, in parallel waves', () => {
    const waves = startOrder(microservices).map((wave) => wave.map((w) => w.name).sort());
    expect(waves[0]).toEqual(['cart-db', 'catalog-db', 'orders-db', 'payments-db', 'users-db']);
    expect(waves[1]).toEqual(['catalog', 'payments', 'users']);
    expect(waves.at(-2)).toEqual(['gateway', 'reporting']);
    expect(waves.at(-1)).toEqual(['jumpbox']);
    expect(startOrder(monolith).map((wave) => wave.map((w) => w.name).sort())).toEqual([
      ['shop-db'],
      ['shop'],
      ['jumpbox', 'reporting'],
    ]);
  });

  it.each(Object.values(deployments))('$name holds the neighbours: a jumpbox and a reporting job', (d) => {
    const jumpbox = d.workloads.find((w) => w.name === 'jumpbox')!;
    expect(jumpbox).toMatchObject({ kind: 'tool', ports: [], scalable: false, replicas: 1 });
    expect(jumpbox.labels).toMatchObject({ app: 'ops', service: 'jumpbox', tier: 'ops' });
    expect(jumpbox.dependsOn).toEqual([d.entry]);
    const reporting = d.workloads.find((w) => w.name === 'reporting')!;
    expect(reporting).toMatchObject({ kind: 'app', ports: [{ port: 8080, protocol: 'tcp' }] });
    expect(reporting.labels).toMatchObject({ app: 'shop', service: 'reporting', tier: 'analytics' });
    const owner = d.modules.orders!;
    expect(reporting.dependsOn).toEqual([owner]);
    expect(reporting.env).toMatchObject({
      SHOP_ROLE: 'reporting',
      REPORT_URL: `http://${owner}:8080/internal/orders/totals`,
    });
    // Neither holds a database credential; the app's own environment does (the labs read it there).
    expect(JSON.stringify([jumpbox.env, reporting.env])).not.toMatch(/postgres:\/\//);
    expect(d.workloads.find((w) => w.name === owner)!.env.DATABASE_URL).toMatch(
      /^postgres:\/\/shop:\{\{db-password\}\}@/,
    );
  });

  it('gives each service its own database, and only payments the payments database', () => {
    const urls = microservices.workloads
      .filter((w) => w.env.DATABASE_URL)
      .map((w) => [w.name, new URL(w.env.DATABASE_URL!).hostname]);
    expect(urls).toEqual([
      ['catalog', 'catalog-db'],
      ['cart', 'cart-db'],
      ['orders', 'orders-db'],
      ['payments', 'payments-db'],
      ['users', 'users-db'],
    ]);
    const callersOfPayments = microservices.workloads.filter((w) => w.dependsOn.includes('payments'));
    expect(callersOfPayments.map((w) => w.name)).toEqual(['orders']);
  });

  it('labels every workload with selectors a policy can use', () => {
    for (const d of Object.values(deployments)) {
      for (const w of d.workloads) {
        expect(Object.keys(w.labels).sort()).toEqual(['app', 'segment', 'service', 'tier']);
      }
    }
    expect(microservices.workloads.find((w) => w.name === 'payments-db')?.labels).toEqual({
      app: 'shop',
      tier: 'db',
      service: 'payments',
      segment: 'pci',
    });
  });

  it('publishes only the storefront, on the edge network', () => {
    for (const d of Object.values(deployments)) {
      const published = d.workloads.filter((w) => w.publish !== undefined).map((w) => w.name);
      expect(published).toEqual([d.entry]);
      const onEdge = d.workloads.filter((w) => w.networks.includes('edge')).map((w) => w.name);
      expect(onEdge).toEqual([d.entry]);
    }
  });
});

describe('pickSubnet', () => {
  it('takes the first /24 of the pool that nothing overlaps', () => {
    expect(pickSubnet('198.19.0.0/16', [])).toBe('198.19.0.0/24');
    expect(
      pickSubnet('198.19.0.0/16', [
        { cidr: '198.19.0.0/24', by: 'a' },
        { cidr: '198.19.1.0/25', by: 'b' },
      ]),
    ).toBe('198.19.2.0/24');
  });

  it('finds nothing when a route covers the whole pool', () => {
    expect(pickSubnet('198.19.0.0/22', [{ cidr: '198.19.0.0/16', by: 'route on eth0' }])).toBeUndefined();
  });
});

describe('the compose file', () => {
  const file = (d: Deployment) =>
    parse(
      composeFile(d, {
        project: 'p1',
        port: 18080,
        subnets: { lab: '198.19.7.0/24', edge: '198.19.8.0/24' },
      }),
    ) as {
      services: Record<string, Record<string, unknown>>;
      networks: Record<string, Record<string, unknown>>;
    };

  it('declares the same services, limits, health checks and dependencies', () => {
    const compose = file(microservices);
    expect(Object.keys(compose.services).sort()).toEqual(microservices.workloads.map((w) => w.name).sort());
    const orders = compose.services.orders!;
    expect(orders.depends_on).toEqual({
      'orders-db': { condition: 'service_healthy' },
      cart: { condition: 'service_healthy' },
      catalog: { condition: 'service_healthy' },
      payments: { condition: 'service_healthy' },
    });
    expect(orders).toMatchObject({ mem_limit: '128m', cpus: 1, pids_limit: 100 });
    expect((orders.healthcheck as { interval: string }).interval).toBe('2000ms');
    expect(compose.services.gateway!.ports).toEqual(['127.0.0.1:18080:8080']);
    expect(compose.services.catalog!.ports).toBeUndefined();
  });

  it('carries the workload labels, so MicroLab reads compose containers like its own', () => {
    const labels = file(microservices).services['payments-db']!.labels as Record<string, string>;
    expect(labels['io.microlab.project']).toBe('p1');
    expect(workloadFromLabels(labels)).toEqual({
      name: 'payments-db',
      labels: { app: 'shop', tier: 'db', service: 'payments', segment: 'pci' },
      ports: [{ port: 5432, protocol: 'tcp' }],
    });
  });

  it('keeps the lab network internal and the edge network without masquerade', () => {
    const { networks } = file(monolith);
    expect(networks.lab).toMatchObject({ internal: true, ipam: { config: [{ subnet: '198.19.7.0/24' }] } });
    expect(networks.edge).toMatchObject({
      internal: false,
      driver_opts: { 'com.docker.network.bridge.enable_ip_masquerade': 'false' },
    });
  });
});
