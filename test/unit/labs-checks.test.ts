/**
 * A check that cannot read its state fails and says so (never a pass by default); one that
 * does not get its state in time fails naming its timeout. The API client here is a fake edge
 * (the engine is what is missing), the checks are the real ones.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../electron/api/dispatch';
import type { LoadReport } from '../../electron/api/contract';
import { ApiError } from '../../electron/errors';
import { describeCheck, runCheck } from '../../electron/labs/checks';
import type { CheckContext } from '../../electron/labs/checks';
import type { LabClient } from '../../electron/labs/client';
import { CheckSchema } from '../../electron/labs/format';
import { StateReader } from '../../electron/labs/state';
import { createServices } from '../../electron/services';

const EMPTY = { at: new Date(0).toISOString(), replicas: {}, versions: {}, containers: [], counters: {} };

function context(client: LabClient): CheckContext {
  return {
    client,
    state: new StateReader(client),
    stepStart: EMPTY,
    labStart: EMPTY,
    answers: {},
    loads: [],
    resolvePolicy: (ref) => ref,
    workspaceFile: (name) => name,
    runLoad: () => Promise.reject(new Error('no engine')),
  };
}

const engineGone: LabClient = {
  call: () =>
    Promise.reject(
      new ApiError('engine-unreachable', 'cannot reach the Docker engine at /var/run/docker.sock'),
    ),
  on: () => () => undefined,
  wait: () => Promise.reject(new Error('no task')),
};

const never: LabClient = {
  call: () => new Promise(() => undefined),
  on: () => () => undefined,
  wait: () => new Promise(() => undefined),
};

describe('lab checks without their state', () => {
  for (const raw of [
    { kind: 'deployment', deployment: 'monolith' },
    { kind: 'flow', src: 'catalog', dst: 'payments-db', port: 5432, observed: 'blocked' },
    { kind: 'blast-radius', workload: 'jumpbox', databases: { equals: 0 } },
    { kind: 'policy', policy: 'none' },
    { kind: 'counter', rule: 'app-to-db' },
    { kind: 'flow-log', src: 'jumpbox' },
    { kind: 'replicas', workload: 'catalog', count: 3 },
  ]) {
    it(`${raw.kind}: fails, saying the engine is not reachable`, async () => {
      const result = await runCheck(CheckSchema.parse(raw), 0, context(engineGone));
      expect(result.passed).toBe(false);
      expect(result.message).toMatch(
        /^cannot read the state this check needs: cannot reach the Docker engine/,
      );
    });
  }

  it('a check that gets no answer fails at its timeout', async () => {
    const result = await runCheck(
      CheckSchema.parse({ kind: 'deployment', deployment: 'monolith', timeout: 0.2 }),
      0,
      context(never),
    );
    expect(result).toMatchObject({
      passed: false,
      message: 'the state was not read within 0.2 s (is the engine busy or gone?)',
    });
  });

  it('a quiz with no answer fails; a load check with no load fails', async () => {
    const quiz = await runCheck(
      CheckSchema.parse({ kind: 'quiz', question: 'q', accept: ['a'] }),
      0,
      context(engineGone),
    );
    expect(quiz).toMatchObject({ passed: false, message: 'no answer to "q" yet' });
    const load = await runCheck(CheckSchema.parse({ kind: 'load', maxErrors: 0 }), 0, context(engineGone));
    expect(load).toMatchObject({ passed: false, message: 'no load has run since the step started' });
  });
});

describe('a load check that expects the load to see a change break something', () => {
  const report = (errors: number) =>
    ({
      taskId: 't',
      deployment: 'microservices',
      rate: 10,
      duration: 15,
      mix: {},
      elapsed: 15,
      started: 150,
      dropped: 0,
      endpoints: [
        { endpoint: 'GET /api/products', count: 100, errors, rps: 6.7, p50: 5, p95: 9, p99: 12 },
        { endpoint: 'POST /api/orders', count: 10, errors: 0, rps: 0.7, p50: 20, p95: 30, p99: 40 },
      ],
      errorSamples: errors ? ['GET /api/products: 503 upstream-unavailable'] : [],
    }) as unknown as LoadReport;
  const check = CheckSchema.parse({ kind: 'load', minErrors: 1 });

  it('fails when the load saw no failure, saying what it saw', async () => {
    const result = await runCheck(check, 0, { ...context(engineGone), loads: [report(0)] });
    expect(result).toMatchObject({
      passed: false,
      message:
        '110 requests, 0 failed; the step expects the load to see at least 1 fail (was it running when the change went in?)',
    });
  });

  it('passes when it did', async () => {
    const result = await runCheck(check, 0, { ...context(engineGone), loads: [report(40)] });
    expect(result).toMatchObject({ passed: true, message: '110 requests on 2 endpoints, 40 errors' });
    expect(result.description).toBe('a load ran on every endpoint and saw at least 1 failed request');
  });
});

describe('what a check says it verifies', () => {
  it('counts in English: the noun is singular when the one number named is 1', () => {
    const radius = (databases: Record<string, number>) =>
      describeCheck(CheckSchema.parse({ kind: 'blast-radius', workload: 'jumpbox', databases }));
    expect(radius({ equals: 1 })).toBe('blast radius of jumpbox: exactly 1 database');
    expect(radius({ min: 1 })).toBe('blast radius of jumpbox: at least 1 database');
    expect(radius({ max: 1 })).toBe('blast radius of jumpbox: at most 1 database');
    expect(radius({ min: 1, max: 3 })).toBe('blast radius of jumpbox: 1 to 3 databases');
    expect(radius({ equals: 0 })).toBe('blast radius of jumpbox: exactly 0 databases');
    expect(radius({ min: 2 })).toBe('blast radius of jumpbox: at least 2 databases');
  });
});

describe('an unchanged check when the engine restarted a container', () => {
  const start = {
    ...EMPTY,
    containers: [
      {
        workload: 'shop',
        container: 'p-shop-1',
        id: 'a1',
        startedAt: '2026-12-07T10:00:00.000Z',
        image: 'i1',
      },
      {
        workload: 'shop-db',
        container: 'p-shop-db-1',
        id: 'b1',
        startedAt: '2026-12-07T10:00:00.000Z',
        image: 'i2',
      },
    ],
  };
  const status = (shop: { id: string; startedAt: string; image: string }) =>
    ({
      call: async (method: string) => {
        if (method !== 'deploy:status') throw new Error(`unexpected ${method}`);
        return {
          project: 'p',
          workloads: [
            { workload: 'shop', container: 'p-shop-1', ...shop },
            {
              workload: 'shop-db',
              container: 'p-shop-db-1',
              id: 'b1',
              startedAt: '2026-12-07T10:00:00.000Z',
              image: 'i2',
            },
          ],
        };
      },
      on: () => () => undefined,
      wait: () => Promise.reject(new Error('no task')),
    }) as unknown as LabClient;
  const check = CheckSchema.parse({ kind: 'unchanged', workloads: ['shop', 'shop-db'], since: 'lab' });
  const run = (client: LabClient) =>
    runCheck(check, 0, { ...context(client), labStart: start, stepStart: start });

  it('passes, naming the restart and why: the same container started again is no replacement', async () => {
    const restartedAt = '2026-12-07T10:05:00.000Z';
    const result = await run(status({ id: 'a1', startedAt: restartedAt, image: 'i1' }));
    expect(result.passed).toBe(true);
    expect(result.message).toContain(
      '2 containers untouched: same id, same image; started again since the lab began',
    );
    expect(result.message).toContain(`p-shop-1 at ${new Date(restartedAt).toTimeString().slice(0, 8)}`);
    expect(result.message).toContain('a restart by the engine or the firewall agent, not a replacement');
  });

  it('fails for a container recreated or running another image, saying which', async () => {
    const recreated = await run(status({ id: 'a2', startedAt: '2026-12-07T10:05:00.000Z', image: 'i1' }));
    expect(recreated).toMatchObject({ passed: false });
    expect(recreated.message).toMatch(/^p-shop-1 was recreated/);
    const reimaged = await run(status({ id: 'a1', startedAt: '2026-12-07T10:05:00.000Z', image: 'i9' }));
    expect(reimaged).toMatchObject({
      passed: false,
      message: 'p-shop-1 runs another image; the step expects them untouched',
    });
  });

  it('passes with the same start time when nothing happened', async () => {
    const result = await run(status({ id: 'a1', startedAt: '2026-12-07T10:00:00.000Z', image: 'i1' }));
    expect(result).toMatchObject({
      passed: true,
      message: '2 containers untouched: same id, same start time, same image',
    });
  });
});

/**
 * A quiz whose answer is read off the Kubernetes export (acceptExport): the real export, made
 * through the real dispatcher (no engine needed when the shape and the policy are named).
 */
describe('a quiz answered from the export', () => {
  const services = createServices({ project: `labs-checks-export-${process.pid}` });
  const client: LabClient = {
    call: async (method, input) => {
      const reply = await dispatch(services.handlers, method, input);
      if (!reply.ok) throw new ApiError(reply.error.code, reply.error.message);
      return reply.result as never;
    },
    on: () => () => undefined,
    wait: () => Promise.reject(new Error('no task')),
  };
  const policies = path.resolve(import.meta.dirname, '../../labs/policies');
  const quiz = (policy: string, ingressOf: string) =>
    CheckSchema.parse({
      kind: 'quiz',
      question: 'peers',
      acceptExport: { policy, deployment: 'microservices', ingressOf },
    });
  const answered = (answer: string) => ({
    ...context(client),
    answers: { peers: answer },
    resolvePolicy: (ref: string) => path.join(policies, ref),
  });

  it('accepts the number of peers the NetworkPolicy lets in, and nothing else', async () => {
    // The database team's policy lets the gateway into payments-db beside payments; the fix does not.
    const broken = quiz('microservices-broken-priority.yaml', 'payments-db');
    expect(await runCheck(broken, 0, answered('2'))).toMatchObject({ passed: true });
    expect(await runCheck(broken, 0, answered('1'))).toMatchObject({ passed: false });
    const segmented = quiz('microservices-segmented.yaml', 'payments-db');
    expect(await runCheck(segmented, 0, answered('1'))).toMatchObject({ passed: true });
    expect(await runCheck(segmented, 0, answered('2'))).toMatchObject({ passed: false });
  });

  it('fails naming the workload when the export has no policy for it', async () => {
    const result = await runCheck(quiz('microservices-flat.yaml', 'payments-db'), 0, answered('0'));
    expect(result.passed).toBe(false);
    expect(result.message).toContain('has no policy microlab-payments-db');
  });
});
