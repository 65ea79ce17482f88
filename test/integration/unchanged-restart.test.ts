/**
 * A lab's 'unchanged' check when something outside the student's control started a container
 * again (issue 15): the monolith's app holder is killed, the engine restarts it (restart
 * policy) and the firewall agent restarts the app into it. The app is the same container,
 * started again: the check passes and says so. It failed ("was restarted") before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localApi } from '../../electron/api/local';
import { runCheck } from '../../electron/labs/checks';
import type { LabClient } from '../../electron/labs/client';
import { CheckSchema } from '../../electron/labs/format';
import { StateReader, takeSnapshot } from '../../electron/labs/state';
import { createServices } from '../../electron/services';
import type { Services } from '../../electron/services';
import { docker, until } from './support';

const project = `unchanged-it-${process.pid}`;
let services: Services;
let client: LabClient;

beforeAll(async () => {
  services = createServices({ project });
  const api = localApi(services);
  await api.run('images:prepare', {});
  await api.run('deploy:up', { deployment: 'monolith', port: 0 });
  client = { call: api.call, on: api.on, wait: (id) => services.tasks.wait(id) };
});

afterAll(async () => {
  await localApi(services)
    .call('resources:down', {})
    .catch(() => undefined);
});

describe('the unchanged check', () => {
  it('passes when the engine and the agent started the app again, naming it and why', async () => {
    const start = await takeSnapshot(client);
    const app = `${project}-shop-1`;
    const before = await docker.getContainer(app).inspect();
    await docker.getContainer(`${app}-fw`).kill();
    await until(
      'the app started again in its restored pod',
      () => docker.getContainer(app).inspect(),
      (a) => a.State.Running && Date.parse(a.State.StartedAt) > Date.parse(before.State.StartedAt),
      120_000,
    );
    const check = CheckSchema.parse({ kind: 'unchanged', workloads: ['shop', 'shop-db'], since: 'lab' });
    const result = await runCheck(check, 0, {
      client,
      state: new StateReader(client),
      stepStart: start,
      labStart: start,
      answers: {},
      loads: [],
      resolvePolicy: (ref) => ref,
      workspaceFile: (name) => name,
      runLoad: () => Promise.reject(new Error('not in this test')),
    });
    expect(result.passed).toBe(true);
    expect(result.message).toContain(
      '2 containers untouched: same id, same image; started again since the lab began',
    );
    expect(result.message).toContain(`${app} at `);
    expect(result.message).toContain('a restart by the engine or the firewall agent, not a replacement');
  });
});
