/**
 * The deployment's database password: random and typeable, replaced wherever a declaration names
 * it, found again from the containers that carry it (so a later replica agrees), `shop` for a
 * deployment from before it existed, and one value for the replicas of one `up`. The engine is a
 * fake edge answering the container list.
 */
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { DB_PASSWORD, deployments, withPassword } from '../../electron/topology/declarations';
import { deploymentPassword, newPassword, SECRET_LABEL } from '../../electron/topology/secret';

const engine = (labels: Record<string, string>[]) =>
  ({
    listContainers: () => Promise.resolve(labels.map((Labels) => ({ Labels, Names: ['/x'] }))),
  }) as unknown as Docker;

describe('the deployment’s database password', () => {
  it('is ten typeable characters, different each time', () => {
    const made = new Set(Array.from({ length: 50 }, newPassword));
    expect(made.size).toBe(50);
    for (const p of made) expect(p).toMatch(/^[a-km-z2-9]{10}$/);
  });

  it('replaces the placeholder in every declaration that names it: the apps, the databases, the operator’s file', () => {
    const text = JSON.stringify(deployments.microservices.workloads);
    expect(text).toContain(DB_PASSWORD);
    const filled = withPassword(text, 'abcdefghjk');
    expect(filled).not.toContain(DB_PASSWORD);
    expect(filled).toContain('postgres://shop:abcdefghjk@catalog-db:5432/postgres');
    expect(filled).toContain('payments-db:5432:*:shop:abcdefghjk');
  });

  it('is the one the running containers carry; shop for databases from before; one per project otherwise', async () => {
    expect(await deploymentPassword(engine([{}, { [SECRET_LABEL]: 'k2k2k2k2k2' }]), 'p1')).toBe('k2k2k2k2k2');
    expect(await deploymentPassword(engine([{ 'io.microlab.label.tier': 'db' }]), 'p2')).toBe('shop');
    const first = await deploymentPassword(engine([]), 'p3');
    expect(await deploymentPassword(engine([]), 'p3')).toBe(first);
    expect(await deploymentPassword(engine([]), 'p4')).not.toBe(first);
  });
});
