/**
 * MicroLab on Podman, through its Docker-compatible API (`podman system service`): doctor, both
 * deployments (the monolith, then the microservices replacing it), each with its segmented policy,
 * the reachability probe and the flow log, and the perimeter layout, on the real engine.
 *
 * Runs only as its own vitest project, when MICROLAB_PODMAN_HOST names the service's socket
 * (`MICROLAB_PODMAN_HOST=unix:///run/podman-microlab.sock npx vitest run --project podman`;
 * .ci/run starts the service, loads the lab images into it and runs this step).
 * The lab networks come from MICROLAB_SUBNET_POOL (default here 10.213.0.0/16), away from the
 * Docker engine's pool (198.18.0.0/15) on the same machine.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Docker from 'dockerode';
import { localApi } from '../../electron/api/local';
import { runHealthcheck } from '../../electron/engine/podman';
import { SAME_SEGMENT } from '../../electron/firewall/perimeter';
import { execIn } from '../../electron/engine/exec';
import { EngineRegistry } from '../../electron/engine/registry';
import { labsDir } from '../../electron/paths';
import { createServices } from '../../electron/services';
import { until } from '../integration/support';

const host = process.env.MICROLAB_PODMAN_HOST;
if (!host)
  throw new Error(
    'MICROLAB_PODMAN_HOST is not set: it names the Podman service socket this test runs against',
  );
process.env.MICROLAB_SUBNET_POOL ??= '10.213.0.0/16';
process.env.MICROLAB_STATE_DIR = mkdtempSync(path.join(os.tmpdir(), 'microlab-it-podman-'));

const services = createServices({
  project: 'microlab-it-podman',
  registry: new EngineRegistry({ ...process.env, DOCKER_HOST: host, DOCKER_CONTEXT: undefined }),
});
const api = localApi(services);
const engine = new Docker({ socketPath: host.replace(/^unix:\/\//, '') });

describe('MicroLab on Podman', () => {
  // Everything the project left on Podman goes: containers, sidecars, networks.
  beforeAll(async () => {
    await api.call('resources:down', {});
  });
  afterAll(async () => {
    await api.call('resources:down', {});
  });

  it('doctor finds Podman ready: engine, images, the sidecar firewall', async () => {
    const report = await api.call('engine:doctor', {});
    expect(report.endpoint?.address).toBe(host);
    expect(report.checks.find((c) => c.id === 'version')?.summary).toMatch(/Podman/);
    expect(report.checks.find((c) => c.id === 'engine')?.title).toBe('Podman engine');
    expect(await api.call('engine:status', {})).toMatchObject({
      engineName: 'Podman',
      engineVersion: expect.stringMatching(/^\d+\.\d+/),
    });
    // The subnet check is left out: Podman 4.3's netavark keeps a removed network's bridge (and
    // its route) until the machine restarts, so a second run here finds its own old routes.
    const failed = report.checks.filter((c) => c.status === 'fail' && c.id !== 'subnets');
    expect(failed.map((c) => `${c.title}: ${c.summary}`)).toEqual([]);
  });

  it('runs the monolith healthy, and its storefront answers', async () => {
    await api.run('deploy:up', { deployment: 'monolith', port: 0 });
    const status = await api.call('deploy:status', {});
    expect(status.healthy).toBe(true);
    expect(status.workloads.map((w) => w.health)).not.toContain('starting');
    const reply = await fetch(status.storefront!);
    expect(reply.status).toBe(200);
  });

  it('loads a segmented policy in every workload and the probe observes what it expects', async () => {
    const applied = await api.call('policy:apply', {
      file: path.join(labsDir(), 'policies', 'monolith-segmented.yaml'),
    });
    expect(applied.report.failed).toBe(0);
    expect(applied.report.loaded).toBe(applied.report.instances);
    const probe = await api.call('probe:run', {});
    expect(probe.cells.length).toBeGreaterThan(0);
    expect(
      probe.cells.filter((c) => !c.match).map((c) => `${c.src} -> ${c.dst}:${c.port.port} ${c.observed}`),
    ).toEqual([]);
    expect(probe.cells.some((c) => c.observed === 'timeout')).toBe(true);
  });

  it("under the policy the shop resolves names (Podman's DNS is on the gateways) and answers, also after a restart", async () => {
    const status = await api.call('deploy:status', {});
    // Names resolve through the gateways' aardvark-dns, allowed on port 53 only.
    const shop = await engine
      .getContainer(status.workloads.find((w) => w.workload === 'shop')!.container)
      .inspect();
    const holder = shop.HostConfig.NetworkMode!.replace(/^container:/, '');
    const resolved = await execIn(engine, holder, ['getent', 'hosts', 'shop-db']);
    expect(resolved.exitCode).toBe(0);
    expect((await fetch(status.storefront!)).status).toBe(200);

    // A restarted app re-makes its connections, looking the database up again.
    await engine.getContainer(shop.Id).restart({ t: 1 });
    await waitHealthy(shop.Id);
    expect((await fetch(status.storefront!)).status).toBe(200);
    // A lookup is counted by the rule towards the gateways. The agent reloads the table after the
    // restart (counters start again at 0), so a lookup that raced the reload is made again.
    await until(
      'a lookup of shop-db counted by the DNS rule towards the gateways',
      async () => {
        const lookup = await execIn(engine, holder, ['getent', 'hosts', 'shop-db']);
        const table = await execIn(engine, holder, ['nft', 'list', 'chain', 'inet', 'microlab', 'egress']);
        return (
          lookup.exitCode === 0 &&
          /udp dport 53 counter packets [1-9]\d* bytes \d+ accept comment "_dns"/.test(table.output)
        );
      },
      (counted) => counted === true,
      20_000,
    );
  });

  it('a denied flow stays denied: DNS is open towards the gateway, nothing else is', async () => {
    const probe = await api.call('probe:run', {});
    const denied = probe.cells.filter((c) => c.expected !== 'connected');
    expect(denied.length).toBeGreaterThan(0);
    expect(
      denied.filter((c) => !c.match).map((c) => `${c.src} -> ${c.dst}:${c.port.port} ${c.observed}`),
    ).toEqual([]);
  });

  it('the microservices replace the monolith, healthy; their segmented policy loads and the probe observes it', async () => {
    await api.run('deploy:up', { deployment: 'microservices', port: 0 });
    const status = await api.call('deploy:status', {});
    expect(status.workloads).toHaveLength(13);
    expect(status.deployment).toBe('microservices');
    expect(status.healthy).toBe(true);
    expect((await fetch(new URL('/api/products', status.storefront!))).status).toBe(200);

    const applied = await api.call('policy:apply', {
      file: path.join(labsDir(), 'policies', 'microservices-segmented.yaml'),
    });
    expect(applied.report.failed).toBe(0);
    expect(applied.report.loaded).toBe(applied.report.instances);
    const probe = await api.call('probe:run', {});
    expect(
      probe.cells.filter((c) => !c.match).map((c) => `${c.src} -> ${c.dst}:${c.port.port} ${c.observed}`),
    ).toEqual([]);
    // The gateway still reaches catalog (allowed), the jumpbox no longer reaches a database (denied).
    const cell = (src: string, dst: string) => probe.cells.find((c) => c.src === src && c.dst === dst);
    expect(cell('gateway', 'catalog')?.observed).toBe('connected');
    expect(cell('jumpbox', 'catalog-db')?.observed).not.toBe('connected');
    // The shop, under its policy, still serves a whole request across its services.
    expect((await fetch(new URL('/api/products', status.storefront!))).status).toBe(200);

    // The flow log, read from the holders' logs through Podman's API: whole lines, each flow
    // with the rule that decided it.
    const flows = await api.call('flows:list', { limit: 2000 });
    expect(flows.find((f) => f.src === 'gateway' && f.dst === 'catalog' && f.port === 8080)).toMatchObject({
      verdict: 'allowed',
      ruleId: 'gateway-to-services',
    });
    expect(flows.find((f) => f.src === 'jumpbox' && f.dst === 'catalog-db' && f.port === 5432)).toMatchObject(
      {
        verdict: 'denied',
        ruleId: 'default',
      },
    );
    // Every flow the probe saw denied is in the log, with the rule the probe names: none lost to
    // a line the log returned in pieces.
    const missing = probe.cells
      .filter((c) => c.observed !== 'connected')
      .filter(
        (c) =>
          !flows.some(
            (f) =>
              f.src === c.src &&
              f.dst === c.dst &&
              f.port === c.port.port &&
              f.verdict !== 'allowed' &&
              f.ruleId === c.ruleId,
          ),
      )
      .map((c) => `${c.src} -> ${c.dst}:${c.port.port} (${c.ruleId})`);
    expect(missing).toEqual([]);
  });

  it('the perimeter layout: one router between the segments enforces the policy, and never sees inside a segment', async () => {
    await api.run('deploy:up', { deployment: 'microservices', port: 0, layout: 'perimeter' });
    const status = await api.call('deploy:status', {});
    expect(status).toMatchObject({ deployment: 'microservices', layout: 'perimeter', healthy: true });
    expect((await fetch(new URL('/api/products', status.storefront!))).status).toBe(200);

    const applied = await api.call('policy:apply', {
      file: path.join(labsDir(), 'policies', 'microservices-segmented.yaml'),
    });
    expect(applied.report.tables).toEqual([
      expect.objectContaining({ workload: 'perimeter-fw', loaded: true }),
    ]);
    const probe = await api.call('probe:run', {});
    expect(
      probe.cells.filter((c) => !c.match).map((c) => `${c.src} -> ${c.dst}:${c.port.port} ${c.observed}`),
    ).toEqual([]);
    const cell = (src: string, dst: string) => probe.cells.find((c) => c.src === src && c.dst === dst);
    // Across segments, as the policy says; inside one (catalog and orders share the shop's
    // segment), connected whatever the policy says: the router never sees it.
    expect(cell('orders', 'payments')).toMatchObject({ observed: 'connected', ruleId: 'orders-to-payments' });
    expect(cell('gateway', 'payments')?.observed).not.toBe('connected');
    expect(cell('catalog', 'orders')).toMatchObject({ observed: 'connected', ruleId: SAME_SEGMENT });

    // The router's log is the flow log, with the rules of the table it holds now.
    const flows = await api.call('flows:list', { limit: 2000 });
    expect(
      flows.filter((f) => f.src === 'orders' && f.dst === 'payments' && f.port === 8080).at(-1),
    ).toMatchObject({
      seenBy: 'perimeter-fw',
      verdict: 'allowed',
      ruleId: 'orders-to-payments',
    });
    expect(flows.filter((f) => f.src === 'catalog' && f.dst === 'orders')).toEqual([]);
    // The shop still works through the router under its policy.
    expect((await fetch(new URL('/api/products', status.storefront!))).status).toBe(200);
  });
});

/** Waits until Podman reports the container healthy, running its check as MicroLab does (no systemd). */
async function waitHealthy(id: string): Promise<void> {
  for (;;) {
    await runHealthcheck(engine, id);
    const info = await engine.getContainer(id).inspect();
    if (info.State.Health?.Status === 'healthy') return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
