/**
 * The lab images of the other architecture (arm64 on an amd64 engine), built offline under QEMU's
 * emulation by `images prepare --arch`, and the shop run from them: every application container
 * of the monolith runs the emulated shop image, while the pods' holders stay native (nftables
 * cannot run emulated), and the storefront keeps its contract. The microservices are left out:
 * their 13 emulated containers did not pass their 2 s health checks within 120 s on a 2-core
 * machine.
 *
 * Runs only as its own vitest project, when MICROLAB_ARM64=1 (`.ci/run`'s arm64 step). The first
 * build takes minutes (packages fetched, then installed emulated); afterwards `prepare --arch`
 * finds the images present.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { architectureImageName, engineArchitecture } from '../../electron/engine/arch';
import { baseImageName, verifyEmulatedImage } from '../../electron/engine/images';
import { LABEL } from '../../electron/engine/labels';
import { SHOP_REPOSITORY } from '../../electron/engine/shop-image';
import { APP_VERSION } from '../../electron/engine/labels';
import type { Lab } from '../integration/shop-support';
import { lab, shopClient, storefront } from '../integration/shop-support';
import { docker } from '../integration/support';

const project = 'microlab-it-arm64';
let native: string;
let other: string;
let l: Lab;
const shopBefore = process.env.MICROLAB_SHOP_IMAGE;
// QEMU's translated code lives in each container's memory: the 96 MB reporting job was OOM-killed.
process.env.MICROLAB_EMULATION_MEMORY_MB = '128';

beforeAll(async () => {
  native = await engineArchitecture(docker);
  other = native === 'amd64' ? 'arm64' : 'amd64';
  // This process's containers run the other architecture's shop image.
  process.env.MICROLAB_SHOP_IMAGE = architectureImageName(`${SHOP_REPOSITORY}:${APP_VERSION}`, other, native);
  l = lab(project);
  await l.call('resources:down', {});
});

afterAll(async () => {
  await l.call('resources:down', {});
  if (shopBefore === undefined) delete process.env.MICROLAB_SHOP_IMAGE;
  else process.env.MICROLAB_SHOP_IMAGE = shopBefore;
});

async function architectures(): Promise<Record<string, string[]>> {
  const containers = await docker.listContainers({ filters: { label: [`${LABEL.project}=${project}`] } });
  const result: Record<string, string[]> = {};
  for (const c of containers) {
    const role = c.Labels[LABEL.role] ?? 'unknown';
    const arch = (await docker.getImage(c.ImageID).inspect()).Architecture;
    result[role] = [...new Set([...(result[role] ?? []), arch])].sort();
  }
  return result;
}

/** A short conversation with the storefront: read, sign up, log in, fill a cart, check out. */
async function shop(baseUrl: string): Promise<void> {
  const api = shopClient(baseUrl);
  expect((await api('GET', '/api/version')).status).toBe(200);
  const products = await api('GET', '/api/products');
  expect(products.status).toBe(200);
  expect((products.body as unknown[]).length).toBeGreaterThan(3);
  const account = { email: `arm-${Date.now()}@example.test`, password: 'correct horse', name: 'Arm' };
  expect((await api('POST', '/api/users', { body: account })).status).toBe(201);
  const login = await api('POST', '/api/login', { body: account });
  const token = (login.body as { token: string }).token;
  expect(
    (await api('POST', '/api/cart/items', { token, body: { productId: 'grinder', quantity: 2 } })).status,
  ).toBe(200);
  const card = { number: '4242 4242 4242 4242', expiry: '12/30', cvc: '123' };
  const declined = await api('POST', '/api/orders', {
    token,
    body: { card: { ...card, number: '4000000000000002' } },
  });
  expect(declined.status).toBe(402);
  const order = await api('POST', '/api/orders', { token, body: { card } });
  expect(order).toMatchObject({ status: 201, body: { status: 'paid' } });
  const orders = await api('GET', '/api/orders', { token });
  expect(orders.body).toHaveLength(1);
}

describe('lab images of the other architecture, emulated', () => {
  it('prepare --arch builds them offline; their configs say so; their tools run under QEMU', async () => {
    const result = await l.run('images:prepare', { architectures: [other as 'amd64' | 'arm64'] });
    expect(result).toMatch(new RegExp(`^${other}: `));
    const base = architectureImageName(baseImageName(), other, native);
    expect((await docker.getImage(base).inspect()).Architecture).toBe(other);
    expect((await docker.getImage(process.env.MICROLAB_SHOP_IMAGE!).inspect()).Architecture).toBe(other);
    // Node and Postgres print their versions; nft and conntrack run up to the netlink socket
    // QEMU refuses, every library found.
    expect(await verifyEmulatedImage(docker, base)).toMatch(
      /^v24\.\d+\.\d+, postgres \(PostgreSQL\) 15\.\d+.*, nftables 1\.0\.\d+\S* \(runs; [^)]*\), conntrack 1:1\.4\.\d+\S* \(runs; /,
    );
  });

  it('the monolith runs emulated beside native holders and keeps the contract', async () => {
    expect(await l.run('deploy:up', { deployment: 'monolith', port: 0 })).toMatch(/^monolith is up/);
    const arch = await architectures();
    expect(arch.workload).toEqual([other]);
    expect(arch.firewall).toEqual([native]);
    await shop(await storefront(l));
  });
});
