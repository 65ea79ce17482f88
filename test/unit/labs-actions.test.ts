/**
 * The runner's entries: a background load's next entries start only once its clock runs (a
 * policy change "under load" made before the generator had read the catalog would stop the
 * load instead of being measured by it). The client is a fake edge: the thing under test is
 * the order of calls.
 */
import { describe, expect, it } from 'vitest';
import type { LoadReport } from '../../electron/api/contract';
import {
  ACTION_KINDS,
  ActionSchema,
  describeAction,
  oneAction,
  runEntries,
} from '../../electron/labs/actions';
import type { LabClient } from '../../electron/labs/client';
import type { TaskInfo } from '../../electron/tasks';

const REPORT = {
  taskId: 'load-1',
  deployment: 'microservices',
  rate: 10,
  duration: 15,
  mix: {},
  elapsed: 15,
  started: 150,
  dropped: 0,
  endpoints: [],
  errorSamples: [],
} as unknown as LoadReport;

function fakeClient(messages: string[]) {
  const calls: string[] = [];
  const task = (message: string, state: TaskInfo['state'] = 'running'): TaskInfo => ({
    id: 'load-1',
    kind: 'load:run',
    title: 'load',
    state,
    progress: { step: 2, steps: 2, message },
    startedAt: new Date().toISOString(),
  });
  let polls = 0;
  const client: LabClient = {
    call: (async (method: string) => {
      calls.push(method);
      if (method === 'load:run') return task('starting');
      if (method === 'tasks:list') {
        const message = messages[Math.min(polls++, messages.length - 1)]!;
        return [task(message)];
      }
      if (method === 'load:report') return REPORT;
      return { report: {} };
    }) as LabClient['call'],
    on: () => () => {},
    wait: async () => task('15/15s', 'succeeded'),
  };
  return { client, calls };
}

const context = (client: LabClient) => ({
  client,
  labDir: '.',
  workspaceDir: '.',
  resolvePolicy: (ref: string) => ref,
  recordLoad: async () => {},
  recordAnswer: async () => {},
});

describe('a background load', () => {
  it('lets the next entry run once the generator reported its first second', async () => {
    const { client, calls } = fakeClient(['starting the load generator', 'running', '1/15s']);
    await runEntries(
      [{ load: { rate: 10, duration: 15, background: true } }, { 'apply-policy': { policy: 'typo.yaml' } }],
      context(client),
    );
    const apply = calls.indexOf('policy:apply');
    expect(calls.slice(0, apply)).toEqual(['load:run', 'tasks:list', 'tasks:list', 'tasks:list']);
    // the load is still recorded at the end
    expect(calls.at(-1)).toBe('load:report');
  });

  it('does not wait for a load that runs in the foreground', async () => {
    const { client, calls } = fakeClient(['running']);
    await runEntries(
      [{ load: { rate: 2, duration: 4 } }, { 'apply-policy': { policy: 'typo.yaml' } }],
      context(client),
    );
    expect(calls).toEqual(['load:run', 'load:report', 'policy:apply']);
  });
});

describe('entries that reach an enforcement point', () => {
  /** A client that records each call's input and ends every terminal session at once with exit 0. */
  function recordingClient() {
    const inputs: [string, unknown][] = [];
    const exits: ((end: { id: string; exitCode: number; reason: string }) => void)[] = [];
    const client: LabClient = {
      call: (async (method: string, input: unknown) => {
        inputs.push([method, input]);
        if (method === 'terminal:open') {
          setTimeout(() => exits.forEach((exit) => exit({ id: 't1', exitCode: 0, reason: 'exited' })), 0);
          return { id: 't1' };
        }
        return { report: {} };
      }) as LabClient['call'],
      on: ((event: string, listener: (end: { id: string; exitCode: number; reason: string }) => void) => {
        if (event === 'terminal:exit') exits.push(listener);
        return () => {};
      }) as LabClient['on'],
      wait: async () => {
        throw new Error('no task here');
      },
    };
    return { client, inputs };
  }

  it("runs an exec with firewall: true in the workload's firewall, not in the workload", async () => {
    const { client, inputs } = recordingClient();
    const done = await runEntries(
      [{ exec: { workload: 'payments', firewall: true, command: ['nft', 'list', 'ruleset'] } }],
      context(client),
    );
    expect(inputs).toEqual([
      [
        'terminal:open',
        { target: { workload: 'payments' }, as: 'firewall', command: ['nft', 'list', 'ruleset'], tty: false },
      ],
    ]);
    expect(done).toBe('run `nft list ruleset` in the firewall of payments');
  });

  it('applies a policy keeping established connections only when the entry says so', async () => {
    const { client, inputs } = recordingClient();
    await runEntries(
      [
        { 'apply-policy': { policy: 'broken.yaml', keepEstablished: true } },
        { 'apply-policy': { policy: 'broken.yaml' } },
      ],
      context(client),
    );
    expect(inputs).toEqual([
      ['policy:apply', { file: 'broken.yaml', keepEstablished: true }],
      ['policy:apply', { file: 'broken.yaml' }],
    ]);
  });
});

describe('the action kinds', () => {
  it('make the schema of a solve entry: exactly one known kind, its fields checked where they stand', () => {
    const names = Object.keys(ACTION_KINDS);
    expect(names).toContain('apply-policy');
    expect(oneAction.safeParse({ reboot: {} }).error?.issues[0]?.message).toBe(
      `an action has exactly one of ${names.join(', ')}`,
    );
    expect(oneAction.safeParse({ scale: { service: 'catalog' } }).error?.issues[0]?.path).toEqual([
      'scale',
      'replicas',
    ]);
    expect(ActionSchema.safeParse({ id: 'go', label: 'Go', 'clear-policy': {} }).success).toBe(true);
  });

  it("describe each entry in the kind's own words", () => {
    expect(describeAction({ 'apply-policy': { policy: 'workspace:mine.yaml', mode: 'monitor' } })).toBe(
      'apply mine.yaml in monitor mode',
    );
    expect(describeAction({ up: { deployment: 'monolith', layout: 'perimeter' } })).toBe(
      'start the monolith behind the perimeter',
    );
    expect(describeAction({ load: { rate: 5, duration: 10, background: true } })).toBe(
      'load 5/s for 10 s (in the background)',
    );
    expect(
      describeAction({ exec: { workload: 'shop', firewall: true, command: ['nft', 'list', 'ruleset'] } }),
    ).toBe('run `nft list ruleset` in the firewall of shop');
  });
});
