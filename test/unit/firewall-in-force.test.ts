/**
 * The owner of the policy in force (firewall/in-force.ts), with a state directory of its own
 * and an agent played by a small fake (the agent's container is tested in pods.test.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentState } from '../../electron/firewall/agent';
import type { AgentLine } from '../../electron/firewall/in-force';
import { PolicyInForce } from '../../electron/firewall/in-force';
import type { Policy } from '../../electron/firewall/policy';
import { parsePolicy } from '../../electron/firewall/policy';

const YAML = `name: web-only
mode: enforce
defaultAction: deny
segments:
  web: { workloads: [shop] }
rules:
  - { id: web-in, from: any, to: { segment: web }, ports: [8080], action: allow }
`;
const POLICY = parsePolicy(YAML, 'web.yaml');
const OTHER: Policy = { ...POLICY, name: 'elsewhere' };

/** An agent that holds what it was handed, and counts how often it was read. */
function fakeAgent(initial?: AgentState): AgentLine & { reads: number; handed: AgentState[] } {
  let state = initial;
  const agent = {
    reads: 0,
    handed: [] as AgentState[],
    read: async () => {
      agent.reads++;
      return state;
    },
    hand: async (s: AgentState) => {
      agent.handed.push(s);
      state = s;
      return undefined;
    },
  };
  return agent;
}

const stored = (deployment?: string, file = '/labs/policies/monolith-segmented.yaml') => ({
  text: YAML,
  file,
  appliedAt: '2026-12-07T10:00:00.000Z',
  ...(deployment ? { deployment } : {}),
});

describe('the policy in force', () => {
  let dir: string;
  const previous = process.env.MICROLAB_STATE_DIR;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-in-force-'));
    process.env.MICROLAB_STATE_DIR = dir;
  });
  afterEach(async () => {
    if (previous === undefined) delete process.env.MICROLAB_STATE_DIR;
    else process.env.MICROLAB_STATE_DIR = previous;
    await rm(dir, { recursive: true, force: true });
  });

  it("is this process's enforcer's first, then the recorded one, then the agent's", async () => {
    let held: Policy | undefined;
    const agent = fakeAgent({ policy: OTHER, keepEstablished: false });
    const inForce = new PolicyInForce({ project: 'p', agent, held: () => held });
    expect((await inForce.read())?.name).toBe('elsewhere');
    await inForce.record({ ...stored(), mode: 'monitor', keepEstablished: true });
    const recorded = await inForce.read();
    expect(recorded?.name).toBe('web-only');
    expect(recorded?.mode).toBe('monitor');
    expect(await inForce.agentState()).toEqual({ policy: recorded, keepEstablished: true });
    held = OTHER;
    expect(await inForce.read()).toBe(OTHER);
    held = undefined;
    await inForce.forget();
    expect(await inForce.source()).toBeUndefined();
    expect((await inForce.read())?.name).toBe('elsewhere');
  });

  it("reads the agent's copy once within its window, and again after handing it another", async () => {
    let now = 0;
    const agent = fakeAgent({ policy: OTHER, keepEstablished: false });
    const inForce = new PolicyInForce({ project: 'p', agent, now: () => now, agentReadMs: 1000 });
    await Promise.all([inForce.read(), inForce.read(), inForce.heldByAgent()]);
    expect(agent.reads).toBe(1);
    now = 1001;
    await inForce.read();
    expect(agent.reads).toBe(2);
    await inForce.handOver({ policy: POLICY, keepEstablished: false });
    expect(agent.handed).toHaveLength(1);
    // within the same window: the hand-over made the earlier read stale
    expect((await inForce.read())?.name).toBe('web-only');
    expect(agent.reads).toBe(3);
  });

  describe('on a change of shape', () => {
    const cleared = () => {
      const calls: string[] = [];
      return { calls, clear: async () => void calls.push('clear') };
    };

    it('sets aside a policy recorded for the other shape, and says which', async () => {
      const inForce = new PolicyInForce({ project: 'p', agent: fakeAgent() });
      await inForce.record(stored('monolith'));
      const { calls, clear } = cleared();
      const said = await inForce.setAsideFor('microservices', undefined, clear);
      expect(calls).toEqual(['clear']);
      expect(said).toBe(
        'the policy monolith-segmented.yaml was applied to the monolith and is set aside: the microservices starts with no policy; apply one written for it, e.g. `microlab policy apply labs/policies/microservices-segmented.yaml`',
      );
    });

    it('keeps a policy for the same shape, and one applied while nothing ran when nothing runs', async () => {
      const inForce = new PolicyInForce({ project: 'p', agent: fakeAgent() });
      const { calls, clear } = cleared();
      await inForce.record(stored('monolith'));
      expect(await inForce.setAsideFor('monolith', 'microservices', clear)).toBeUndefined();
      await inForce.record(stored(undefined, 'inline'));
      expect(await inForce.setAsideFor('monolith', undefined, clear)).toBeUndefined();
      expect(calls).toEqual([]);
      // applied while nothing ran: it counts as written for the shape running now
      expect(await inForce.setAsideFor('monolith', 'microservices', clear)).toMatch(
        /^the policy in force was applied to the microservices and is set aside/,
      );
      expect(calls).toEqual(['clear']);
    });

    it('sets aside what only the agent holds, saying so; with no policy anywhere there is nothing to do', async () => {
      const { calls, clear } = cleared();
      const none = new PolicyInForce({ project: 'p', agent: fakeAgent() });
      expect(await none.setAsideFor('monolith', 'microservices', clear)).toBeUndefined();
      const inForce = new PolicyInForce({
        project: 'p',
        agent: fakeAgent({ policy: POLICY, keepEstablished: false }),
      });
      expect(await inForce.setAsideFor('monolith', 'microservices', clear)).toMatch(
        /^the policy web-only \(held by the firewall agent; this MicroLab's state directory has no record of it\) was applied to the microservices/,
      );
      expect(calls).toEqual(['clear']);
    });
  });
});
