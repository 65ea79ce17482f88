/**
 * Restoring a step's start when the shop is unhealthy because of the policy in force (a
 * health check calls a peer the policy cuts off): the step's policy goes back first, and the
 * deployment is restarted only if that does not bring it back. The client is a fake edge:
 * the thing under test is which calls the restore makes.
 */
import { describe, expect, it } from 'vitest';
import type { LabClient } from '../../electron/labs/client';
import { restore } from '../../electron/labs/restore';
import type { Target } from '../../electron/labs/restore';

const TARGET: Target = {
  deployment: 'microservices',
  layout: 'flat',
  replicas: {},
  versions: {},
  policy: { text: 'good', file: 'inline' },
};

function fakeClient(healthyAfterApply: boolean) {
  const calls: string[] = [];
  let policy = 'typo';
  const client: LabClient = {
    call: (async (method: string, input: { text?: string }) => {
      calls.push(method);
      if (method === 'deploy:status')
        return {
          deployment: 'microservices',
          layout: 'flat',
          healthy: healthyAfterApply && policy === 'good',
          workloads: [],
        };
      if (method === 'policy:show') return { source: { text: policy, file: 'inline' } };
      if (method === 'policy:apply') policy = input.text ?? policy;
      if (method === 'deploy:up') return { id: 'up-1' };
      return {};
    }) as LabClient['call'],
    on: () => () => {},
    wait: async () => ({
      id: 'up-1',
      kind: 'deploy:up',
      title: 'up',
      state: 'succeeded',
      progress: { step: 1, steps: 1, message: '' },
      startedAt: new Date().toISOString(),
    }),
  };
  return { client, calls };
}

describe('restoring a shop a policy made unhealthy', () => {
  it("puts the step's policy back, and does not restart what that heals", async () => {
    const { client, calls } = fakeClient(true);
    const changed = await restore(client, TARGET);
    expect(changed).toEqual(['applied the policy of that moment']);
    expect(calls).not.toContain('deploy:up');
    expect(calls.filter((c) => c === 'policy:apply')).toHaveLength(1);
  });

  it('restarts the deployment when the policy was not the cause', async () => {
    const { client, calls } = fakeClient(false);
    await restore(client, TARGET, () => {}, 1500);
    expect(calls.indexOf('policy:apply')).toBeLessThan(calls.indexOf('deploy:up'));
  });
});
