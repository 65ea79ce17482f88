/**
 * Measures that read the deployment: the memory of some workloads (with the monolith's load
 * balancer when asked), and the containers replaced since the step started (all of them, or
 * all but some workloads'). The API client is a fake edge returning a deployment status; the
 * measures are the real ones.
 */
import { describe, expect, it } from 'vitest';
import type { DeploymentStatus, LoadReport, Measurement } from '../../electron/api/contract';
import { DEFAULT_CAPACITY } from '../../labs/shop/src/loadgen/capacity';
import type { LabClient } from '../../electron/labs/client';
import type { LabMeasure } from '../../electron/labs/format';
import { MEASURE_SOURCES, MeasureSchema, takeMeasures, unitFor } from '../../electron/labs/measures';
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

describe('lab measures read from load reports and from earlier measures', () => {
  const endpoint = (name: string, count: number, errors: number, p95 = 10) => ({
    endpoint: name,
    count,
    errors,
    rps: count / 10,
    p50: p95 / 2,
    p95,
    p99: p95,
  });
  const load = (endpoints: ReturnType<typeof endpoint>[], extra: Partial<LoadReport> = {}): LoadReport => ({
    taskId: 't',
    deployment: 'microservices',
    rate: 10,
    duration: 10,
    mix: {},
    elapsed: 10,
    started: 100,
    dropped: 0,
    endpoints: [
      ...endpoints,
      endpoint(
        'all',
        endpoints.reduce((s, e) => s + e.count, 0),
        0,
      ),
    ],
    errorSamples: [],
    ...extra,
  });
  const capacity = (served: number): LoadReport['capacity'] => ({
    options: DEFAULT_CAPACITY,
    steps: [],
    knee: { rate: served, served, p95: 120 },
    overRate: served * 1.5,
    reason: `${served * 1.5}/s crossed a bound`,
  });

  async function measureWith(
    from: Record<string, unknown>,
    loads: LoadReport[],
    recorded: Measurement[] = [],
  ) {
    const m = { id: 'm', label: 'M', unit: 'x', from } as LabMeasure;
    return takeMeasures([m], {
      state: new StateReader(client({})),
      stepStart: snapshot([]),
      labStart: snapshot([]),
      loads,
      attempts: 1,
      recorded,
    });
  }
  const recorded = (id: string, value: number): Measurement => ({
    id,
    label: id,
    unit: 'x',
    value,
    source: 'test',
    at: new Date(0).toISOString(),
  });

  it("capacity: what the knee of the step's capacity search served; none without a search, or without a knee", async () => {
    const { measurements } = await measureWith({ load: { stat: 'capacity' } }, [
      load([endpoint('GET /api/search', 300, 0)], { capacity: capacity(42) }),
    ]);
    expect(measurements[0]).toMatchObject({
      value: 42,
      source:
        'capacity search on the microservices: 42 requests/s served at 42/s offered, p95 120 ms (63/s crossed a bound)',
    });
    expect((await measureWith({ load: { stat: 'capacity' } }, [load([])])).missing).toEqual([
      "M: the step's load was not a capacity search",
    ]);
    const none = { ...capacity(1)!, knee: undefined, reason: 'the first rate, 5/s, was already over' };
    expect(
      (await measureWith({ load: { stat: 'capacity' } }, [load([], { capacity: none })])).missing,
    ).toEqual([
      'M: the capacity search found no rate within its bounds: the first rate, 5/s, was already over',
    ]);
  });

  it('endpoints and failing count requested and failing endpoints; run: first reads the baseline load', async () => {
    const before = load([endpoint('GET /api/products', 50, 0, 20), endpoint('POST /api/login', 10, 0, 30)]);
    const during = load([
      endpoint('GET /api/products', 50, 7, 900),
      endpoint('POST /api/login', 10, 0, 40),
      endpoint('GET /api/cart', 0, 0, 0),
    ]);
    const read = async (from: Record<string, unknown>) =>
      (await measureWith(from, [before, during])).measurements[0]!.value;
    expect(await read({ load: { stat: 'endpoints', except: ['all'] } })).toBe(2);
    expect(await read({ load: { stat: 'failing', except: ['all'] } })).toBe(1);
    expect(await read({ load: { stat: 'p95', endpoints: ['GET /api/products'] } })).toBe(900);
    expect(await read({ load: { stat: 'p95', endpoints: ['GET /api/products'], run: 'first' } })).toBe(20);
    expect(await read({ load: { stat: 'errors', endpoints: ['POST /api/login'] } })).toBe(0);
  });

  it('ratio: (of − minus) / (per − minus) over measures recorded before, or a moment ago in the same step', async () => {
    const earlier = [
      recorded('cap-1', 25),
      recorded('cap-3', 70),
      recorded('mem-1', 40),
      recorded('mem-3', 130),
    ];
    const { measurements } = await measureWith(
      { ratio: { of: { measure: 'cap-3', minus: 'cap-1' }, per: { measure: 'mem-3', minus: 'mem-1' } } },
      [],
      earlier,
    );
    expect(measurements[0]).toMatchObject({
      value: 0.5,
      source: '(cap-3 70 − cap-1 25) / (mem-3 130 − mem-1 40)',
    });
    const perReplica = await measureWith(
      { ratio: { of: { measure: 'cap-3', minus: 'cap-1' }, per: 2 } },
      [],
      earlier,
    );
    expect(perReplica.measurements[0]!.value).toBe(22.5);
    // a measure of the same step, taken just before the ratio
    const m = (id: string, from: Record<string, unknown>) =>
      ({ id, label: id, unit: 'x', from }) as LabMeasure;
    const same = await takeMeasures(
      [
        m('cap-now', { load: { stat: 'capacity' } }),
        m('gain', { ratio: { of: { measure: 'cap-now', minus: 'cap-1' }, per: 2 } }),
      ],
      {
        state: new StateReader(client({})),
        stepStart: snapshot([]),
        labStart: snapshot([]),
        loads: [load([], { capacity: capacity(75) })],
        attempts: 1,
        recorded: earlier,
      },
    );
    expect(same.measurements.map((x) => [x.id, x.value])).toEqual([
      ['cap-now', 75],
      ['gain', 25],
    ]);
    expect((await measureWith({ ratio: { of: 'cap-9', per: 1 } }, [], earlier)).missing).toEqual([
      'M: cap-9 is not recorded yet',
    ]);
    expect(
      (await measureWith({ ratio: { of: 'cap-3', per: { measure: 'mem-1', minus: 40 } } }, [], earlier))
        .missing,
    ).toEqual(['M: (mem-1 40 − 40) is 0: no ratio']);
  });
});

describe('the measure sources', () => {
  it('make the schema of `from`: exactly one known source, its fields checked where they stand', () => {
    const names = Object.keys(MEASURE_SOURCES);
    expect(names).toContain('blast-radius');
    const unknown = MeasureSchema.safeParse({ id: 'm', label: 'M', unit: 'x', from: { ping: {} } });
    expect(unknown.error?.issues[0]?.message).toBe(`a measure comes from exactly one of ${names.join(', ')}`);
    const bad = MeasureSchema.safeParse({ id: 'm', label: 'M', unit: 'x', from: { replicas: {} } });
    expect(bad.error?.issues[0]?.path).toEqual(['from', 'replicas', 'workload']);
    const both = MeasureSchema.safeParse({
      id: 'm',
      label: 'M',
      unit: 'x',
      from: { 'blast-radius': { workload: 'jumpbox', attacker: 'jumpbox' } },
    });
    expect(both.error?.issues[0]?.message).toBe('name either a workload or an attacker');
  });
});
