/**
 * Measures that read the deployment: the memory of some workloads (with the monolith's load
 * balancer when asked), and the containers replaced since the step started (all of them, or
 * all but some workloads'). The API client is a fake edge returning a deployment status; the
 * measures are the real ones.
 */
import { describe, expect, it } from 'vitest';
import type { DeploymentStatus } from '../../electron/api/contract';
import type { LabClient } from '../../electron/labs/client';
import type { LabMeasure } from '../../electron/labs/format';
import { takeMeasures, unitFor } from '../../electron/labs/measures';
import type { Snapshot } from '../../electron/labs/progress';
import { StateReader } from '../../electron/labs/state';

const MB = 1024 * 1024;

function workload(name: string, replica: number, id: string, memory: number) {
  return {
    workload: name,
    container: `p-${name}-${replica}`,
    id,
    startedAt: `2026-01-01T00:00:0${replica}Z`,
    memoryBytes: memory * MB,
  };
}

function client(status: Partial<DeploymentStatus>): LabClient {
  return {
    call: ((method: string) =>
      method === 'deploy:status'
        ? Promise.resolve({ calls: [], healthy: true, networks: [], workloads: [], ...status })
        : Promise.reject(new Error(`unexpected ${method}`))) as LabClient['call'],
    on: () => () => undefined,
    wait: () => Promise.reject(new Error('no task')),
  };
}

function snapshot(containers: ReturnType<typeof workload>[]): Snapshot {
  return {
    at: new Date(0).toISOString(),
    replicas: {},
    versions: {},
    counters: {},
    containers: containers.map(({ workload, container, id, startedAt }) => ({
      workload,
      container,
      id,
      startedAt,
    })),
  };
}

async function measure(from: Record<string, unknown>, status: Partial<DeploymentStatus>, start: Snapshot) {
  const m = { id: 'm', label: 'M', unit: 'x', from } as LabMeasure;
  const { measurements, missing } = await takeMeasures([m], {
    state: new StateReader(client(status)),
    stepStart: start,
    labStart: start,
    loads: [],
    attempts: 1,
  });
  expect(missing).toEqual([]);
  return measurements[0]!;
}

describe('lab measures read from the deployment', () => {
  const shops = [workload('shop', 1, 'a', 20), workload('shop', 2, 'b', 22), workload('shop-db', 1, 'c', 30)];
  const balancer = { container: 'p-shop-lb', target: 'shop', state: 'running', health: 'healthy' as const };

  it('memory: the workloads named; with balancer, the load balancer in front of them too', async () => {
    const status = { workloads: shops, balancer: { ...balancer, memoryBytes: 10 * MB } } as never;
    expect(await measure({ memory: { workloads: ['shop'] } }, status, snapshot([]))).toMatchObject({
      value: 42,
      source: 'memory of 2 containers: p-shop-1, p-shop-2',
    });
    expect(
      await measure({ memory: { workloads: ['shop'], balancer: true } }, status, snapshot([])),
    ).toMatchObject({ value: 52, source: 'memory of 3 containers: p-shop-1, p-shop-2, p-shop-lb' });
  });

  it('memory with balancer and none running: the workloads alone', async () => {
    const status = { workloads: shops } as never;
    expect(
      await measure({ memory: { workloads: ['shop'], balancer: true } }, status, snapshot([])),
    ).toMatchObject({ value: 42 });
  });

  it('replaced: every container recreated or restarted since the step started, or all but some workloads', async () => {
    const start = snapshot([
      workload('catalog', 1, 'k1', 20),
      workload('catalog', 2, 'k2', 20),
      workload('cart', 1, 'c1', 20),
      workload('gateway', 1, 'g1', 20),
    ]);
    const now = {
      workloads: [
        workload('catalog', 1, 'k1-new', 20),
        workload('catalog', 2, 'k2-new', 20),
        { ...workload('cart', 1, 'c1', 20), startedAt: '2026-01-01T00:09:00Z' },
        workload('gateway', 1, 'g1', 20),
      ],
    } as never;
    expect(await measure({ replaced: {} }, now, start)).toMatchObject({
      value: 3,
      source: 'containers replaced or restarted since the step started: p-catalog-1, p-catalog-2, p-cart-1',
    });
    expect(await measure({ replaced: { except: ['catalog'] } }, now, start)).toMatchObject({
      value: 1,
      source: "containers but catalog's replaced or restarted since the step started: p-cart-1",
    });
    expect(await measure({ replaced: { workloads: ['gateway'] } }, now, start)).toMatchObject({
      value: 0,
      source: 'containers of gateway replaced or restarted since the step started: none',
    });
  });
});

describe('unitFor: a figure reads as a sentence', () => {
  it('makes a plural count noun singular for exactly 1, and leaves every other case as written', () => {
    expect(unitFor(1, 'databases')).toBe('database');
    expect(unitFor(1, 'workloads')).toBe('workload');
    expect(unitFor(1, 'entries')).toBe('entry');
    expect(unitFor(1, 'processes')).toBe('process');
    expect(unitFor(0, 'databases')).toBe('databases');
    expect(unitFor(2, 'replicas')).toBe('replicas');
    expect(unitFor(1, 'ms')).toBe('ms');
    expect(unitFor(1, 'requests/s')).toBe('requests/s');
    expect(unitFor(1, 'MB')).toBe('MB');
  });
});
