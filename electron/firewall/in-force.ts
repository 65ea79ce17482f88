/**
 * The policy in force, and its one owner. Three places may know it:
 *
 *   1. this process's enforcer, once it applied one (the freshest);
 *   2. the state file (store.ts), written by whichever MicroLab process of this state
 *      directory applied it;
 *   3. the project's firewall agent (agent.ts), which holds its own copy and is what enforces:
 *      a MicroLab whose state directory records nothing (another user, `sudo`, another
 *      MICROLAB_STATE_DIR) learns the policy from it.
 *
 * `read()` asks them in that order. `handOver()` gives the agent (where the project has pods)
 * the policy to put in force and returns its report, `record()` and `forget()` keep the state file, and
 * `setAsideFor()` clears a policy written for the other shape before `up` starts this one.
 */
import path from 'node:path';
import type Docker from 'dockerode';
import type { AgentState } from './agent';
import { readAgentState, syncAgent } from './agent';
import type { ApplyReport } from './enforcer';
import { withMode } from './evaluate';
import { usesAgent } from './pods';
import type { Policy } from './policy';
import { parsePolicy } from './policy';
import type { StoredPolicy } from './store';
import { clearStoredPolicy, readStoredPolicy, writeStoredPolicy } from './store';

/** The project's agent, as the owner talks to it. */
export interface AgentLine {
  /** What the running agent holds; undefined when none runs or its state cannot be read. */
  read(): Promise<AgentState | undefined>;
  /**
   * Makes the agent (if the project has one, or pods) hold `state`; resolves once the agent
   * put it in force, with its report (undefined: no agent, the project has no pods).
   */
  hand(state: AgentState): Promise<ApplyReport | undefined>;
}

/** The agent of `project` on the engine `docker()` answers for. */
export function agentLine(docker: () => Promise<Docker>, project: string): AgentLine {
  return {
    read: async () => readAgentState(await docker(), project),
    hand: async (state) => {
      const engine = await docker();
      if (!(await usesAgent(engine, project))) return undefined;
      return (await syncAgent(engine, project, state)).report;
    },
  };
}

export interface PolicyInForceOptions {
  project: string;
  agent: AgentLine;
  /** The policy this process's enforcer holds, if it holds one. */
  held?: () => Policy | undefined;
  /** How long one read of the agent's copy serves, in ms (default 1000: an `up` opens many pods at once, each asking). */
  agentReadMs?: number;
  /** The clock, in ms (tests pass their own). */
  now?: () => number;
}

export class PolicyInForce {
  private agentRead?: { at: number; policy: Promise<Policy | undefined> };

  constructor(private readonly options: PolicyInForceOptions) {}

  /** The policy in force (see the module's comment for where it is read), or undefined: none. */
  async read(): Promise<Policy | undefined> {
    const held = this.options.held?.();
    if (held) return held;
    const stored = await this.source();
    if (!stored) return this.heldByAgent();
    return withMode(parsePolicy(stored.text, stored.file), stored.mode);
  }

  /** How the policy in force was applied, as this state directory recorded it. */
  source(): Promise<StoredPolicy | undefined> {
    return readStoredPolicy(this.options.project);
  }

  /** Whether the policy in force keeps established connections (reloads keep them too). */
  async keepsEstablished(): Promise<boolean> {
    return (await this.source())?.keepEstablished ?? false;
  }

  /** What the project's agent must hold: the policy in force, as it was applied. */
  async agentState(): Promise<AgentState> {
    return { policy: (await this.read()) ?? null, keepEstablished: await this.keepsEstablished() };
  }

  /**
   * The policy the project's agent holds (its own copy, whichever process applied it), if any.
   * Read at most once per `agentReadMs`, and again after this process handed it another.
   */
  heldByAgent(): Promise<Policy | undefined> {
    const now = (this.options.now ?? Date.now)();
    if (!this.agentRead || now - this.agentRead.at > (this.options.agentReadMs ?? 1000))
      this.agentRead = {
        at: now,
        policy: this.options.agent.read().then((state) => state?.policy ?? undefined),
      };
    return this.agentRead.policy;
  }

  /**
   * Hands the agent the policy to put in force (null: none, every table opens); resolves with
   * the agent's report once it is in force on every pod (undefined: the project has no pods).
   */
  async handOver(state: AgentState): Promise<ApplyReport | undefined> {
    this.agentRead = undefined; // what the agent held a moment ago is no longer what it holds
    return this.options.agent.hand(state);
  }

  /** Records in this state directory how the policy now in force was applied. */
  record(stored: StoredPolicy): Promise<void> {
    return writeStoredPolicy(this.options.project, stored);
  }

  /** Forgets the record: no policy is in force. */
  forget(): Promise<void> {
    return clearStoredPolicy(this.options.project);
  }

  /**
   * Before `up` starts `deployment` (with `running` the shape running now, if any): a policy
   * written for the other shape names that shape's workloads, so it is set aside, by `clear`
   * (the service's `policy:clear`, which also opens the tables). Returns what to tell the
   * user, or undefined when the policy in force (or none) stays.
   */
  async setAsideFor(
    deployment: string,
    running: string | undefined,
    clear: () => Promise<unknown>,
  ): Promise<string | undefined> {
    const source = await this.source();
    // Else applied by a process with another state directory: only the agent knows it.
    const held = source ? undefined : await this.heldByAgent();
    if (!source && !held) return undefined;
    // A policy applied while nothing ran, or elsewhere, counts as written for the shape running now, if any.
    const shape = source?.deployment ?? running;
    if (!shape || shape === deployment) return undefined;
    await clear();
    const what = !source
      ? `the policy ${held?.name ?? 'in force'} (held by the firewall agent; this MicroLab's state directory has no record of it)`
      : source.file === 'inline'
        ? 'the policy in force'
        : `the policy ${path.basename(source.file)}`;
    return `${what} was applied to the ${shape} and is set aside: the ${deployment} starts with no policy; apply one written for it, e.g. \`microlab policy apply labs/policies/${deployment}-segmented.yaml\``;
  }
}
