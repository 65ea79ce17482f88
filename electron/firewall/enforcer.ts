/**
 * The enforcer: keeps every pod's namespace holding the table the policy compiles to, for the
 * instances running now. Its tables go to the pods' holders (holder.ts), over each holder's
 * open line (sidecar.ts); a workload with no holder has no firewall of its own and gets none.
 *
 *   apply(policy)  compile for the current instances, load (in parallel, atomically per pod)
 *                  only the tables that changed, cut the established connections they deny
 *   secure(...)    load a new pod's table into its holder before its app exists
 *   schedule()     reconcile soon; watcher.ts calls it on the project's Docker events
 *
 * A policy reaches the enforcer only after it validated (policy.ts), so a bad file changes
 * nothing. The enforcer takes whatever labeled instances exist: it knows no shop.
 */
import type Docker from 'dockerode';
import { performance } from 'node:perf_hooks';
import { LAYOUT_LABEL } from '../topology/perimeter';
import type { WorkloadInstance } from '../topology/workload';
import { compileTable, removeTableText } from './compile';
import { connectionKey, connectionsToCut, cutScript, parseConntrack, parseCutResults } from './cut';
import type { Mode, Policy } from './policy';
import { listProject, instancesOf } from './instances';
import { execIn } from '../engine/exec';
import { SidecarChannel } from './sidecar';

export interface TableStatus {
  workload: string;
  container: string;
  containerId: string;
  /** The pod's holder (its firewall container) that loaded the table. */
  holder: string;
  mode: Mode;
  /** Whether this apply loaded it (false: the namespace already held exactly this table). */
  loaded: boolean;
  /** Established connections this namespace's new table denies that were cut (see cut.ts). */
  cut?: number;
  error?: string;
  /** Why the connections the new table denies could not be cut (the table itself loaded). */
  cutError?: string;
}

export interface ApplyReport {
  policy?: string;
  instances: number;
  loaded: number;
  unchanged: number;
  failed: number;
  /**
   * Established connections the new tables deny that were cut (each counted once, though both
   * its ends may have held an entry). 0 when `keptEstablished`.
   */
  connectionsCut: number;
  /** The apply asked to keep established connections: they live on until they close. */
  keptEstablished: boolean;
  durationMs: number;
  tables: TableStatus[];
}

/** The report of an apply that loaded no table yet: zero counts, nothing cut, 0 ms. */
export function emptyApplyReport(policy: Policy | undefined, keepEstablished: boolean): ApplyReport {
  return {
    ...(policy?.name ? { policy: policy.name } : {}),
    instances: 0,
    loaded: 0,
    unchanged: 0,
    failed: 0,
    connectionsCut: 0,
    keptEstablished: keepEstablished,
    durationMs: 0,
    tables: [],
  };
}

export interface ApplyOptions {
  /** Keep connections opened under the previous policy (a stateful firewall's default). */
  keepEstablished?: boolean;
}

export interface EnforcerOptions {
  /** Called after every reconcile the enforcer starts by itself (Docker events). */
  onReconcile?: (report: ApplyReport | Error) => void;
}

export class Enforcer {
  private policy?: Policy;
  private keepEstablished = false;
  /** A pod's holder id -> the table text its namespace holds. */
  private readonly applied = new Map<string, string>();
  /** Open lines to the holders' main processes, by holder id. */
  private readonly channels = new Map<string, SidecarChannel>();
  private running?: Promise<ApplyReport>;
  private next?: Promise<ApplyReport>;
  private nextCuts?: boolean;
  private timer?: NodeJS.Timeout;
  private readonly after: ((report: ApplyReport) => Promise<void>)[] = [];

  constructor(
    private readonly docker: Docker,
    private readonly project: string,
    private readonly options: EnforcerOptions = {},
  ) {}

  current(): Policy | undefined {
    return this.policy;
  }

  /** Stops enforcing per workload (the perimeter layout took over): events no longer load tables. */
  release(): void {
    this.policy = undefined;
    this.applied.clear();
  }

  /**
   * Puts `policy` in force on every running instance and, unless `keepEstablished`, cuts the
   * established connections it denies (in every namespace whose table changed).
   */
  async apply(policy: Policy, options: ApplyOptions & { cut?: boolean } = {}): Promise<ApplyReport> {
    this.policy = policy;
    this.keepEstablished = options.keepEstablished ?? false;
    return this.reconcile({ cut: options.cut ?? true });
  }

  /**
   * Recomputes and reloads what changed; calls made while one runs are folded into one more
   * run (which cuts connections if any of them asked to). `cut: false`: this run cuts nothing,
   * whatever `keepEstablished` says (someone else cuts and reports).
   */
  reconcile({ cut = true }: { cut?: boolean } = {}): Promise<ApplyReport> {
    if (this.running) {
      this.nextCuts = (this.nextCuts ?? false) || cut;
      this.next ??= this.running
        .catch(() => undefined)
        .then(() => {
          const cuts = this.nextCuts ?? true;
          this.next = undefined;
          this.nextCuts = undefined;
          return this.reconcile({ cut: cuts });
        });
      return this.next;
    }
    this.running = this.reconcileOnce(cut).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * Forgets what it believes a namespace holds (by its holder's id; every namespace when
   * undefined), so the next reconcile loads it again.
   */
  forget(holderId?: string): void {
    if (holderId === undefined) this.applied.clear();
    else this.applied.delete(holderId);
  }

  private async reconcileOnce(cuts: boolean): Promise<ApplyReport> {
    const start = performance.now();
    const policy = this.policy;
    const keepEstablished = this.keepEstablished || !cuts;
    const report = emptyApplyReport(policy, keepEstablished);
    if (!policy) return report;
    // One listing of the project's containers serves the layout, the instances and their holders.
    const containers = await listProject(this.docker, this.project);
    // Behind a perimeter the router decides (perimeter-router.ts): a workload started in that
    // layout gets no table of its own, even while `up` switches to it under a flat policy.
    if (containers.some((c) => c.Labels?.[LAYOUT_LABEL] === 'perimeter')) return report;
    const instances = await instancesOf(this.docker, containers);
    // Peers are every instance; tables go to the pods (an instance with a holder).
    const pods = instances.filter((i) => i.holder);
    report.instances = pods.length;
    const liveNamespaces = new Set(pods.map((i) => i.holder!));
    for (const id of [...this.applied.keys()]) if (!liveNamespaces.has(id)) this.forget(id);
    // Lines to holders that are gone close (a holder whose app is not there yet keeps its own).
    const running = new Set(containers.map((c) => c.Id));
    for (const [id, channel] of this.channels)
      if (!running.has(id)) {
        channel.close();
        this.channels.delete(id);
      }
    const holderNames = new Map(
      containers.map((c) => [c.Id, (c.Names[0] ?? c.Id).replace(/^\//, '')] as const),
    );

    const cut = new Set<string>();
    report.tables = await Promise.all(
      pods.map(async (instance): Promise<TableStatus> => {
        const holder = instance.holder!;
        const table = compileTable(policy, instance, instances);
        const status: TableStatus = {
          workload: instance.name,
          container: instance.containerName,
          containerId: instance.containerId,
          holder: holderNames.get(holder) ?? holder,
          mode: table.mode,
          loaded: false,
        };
        if (this.applied.get(holder) === table.text) return status;
        try {
          const channel = this.channel(holder);
          const cuts = !keepEstablished && table.mode === 'enforce';
          // Where it cuts, the listing of the namespace's connections follows the load in the
          // same write: one round trip (a listing that failed is taken by exec in cutDenied).
          const { listing } = cuts
            ? await channel.loadThenList(table.text)
            : await channel.load(table.text).then(() => ({ listing: undefined }));
          this.applied.set(holder, table.text);
          status.loaded = true;
          if (cuts) {
            try {
              const keys = await cutDenied(this.docker, channel, policy, instance, instances, listing);
              status.cut = keys.length;
              for (const k of keys) cut.add(k);
            } catch (err) {
              status.cutError = (err as Error).message;
            }
          }
        } catch (err) {
          this.applied.delete(holder);
          status.error = (err as Error).message;
        }
        return status;
      }),
    );
    report.loaded = report.tables.filter((t) => t.loaded).length;
    report.failed = report.tables.filter((t) => t.error).length;
    report.unchanged = report.tables.length - report.loaded - report.failed;
    report.connectionsCut = cut.size;
    report.durationMs = Math.round((performance.now() - start) * 10) / 10;
    return report;
  }

  /**
   * Loads a new pod's table into its holder, before its app container exists, and waits for
   * the holder's answer (the load is confirmed or this throws). `pending` is the pod as it
   * will run (its addresses are the holder's); its peers learn its address only once its
   * app runs (the next reconcile), so no table trusts an address before it is secured.
   */
  async secure(policy: Policy | undefined, holderId: string, pending: WorkloadInstance): Promise<void> {
    const instances = (await instancesOf(this.docker, await listProject(this.docker, this.project))).filter(
      (i) => i.containerId !== pending.containerId,
    );
    const table = policy
      ? compileTable(policy, pending, [...instances, pending])
      : { text: removeTableText(), mode: 'off' as const };
    await this.channel(holderId).load(table.text);
    this.applied.set(holderId, table.text);
  }

  private channel(holderId: string): SidecarChannel {
    let channel = this.channels.get(holderId);
    if (!channel) this.channels.set(holderId, (channel = new SidecarChannel(this.docker, holderId)));
    return channel;
  }

  /** Closes the lines to the holders (the rules stay loaded). */
  close(): void {
    for (const channel of this.channels.values()) channel.close();
    this.channels.clear();
  }

  /** Runs a reconcile soon (debounced a little, so a scale-out of several replicas is one reload). */
  schedule(after?: (report: ApplyReport) => Promise<void>): void {
    clearTimeout(this.timer);
    if (after) this.after.push(after);
    this.timer = setTimeout(() => {
      const pending = this.after.splice(0);
      this.reconcile()
        .then(async (report) => {
          for (const step of pending) await step(report).catch(() => undefined);
          this.options.onReconcile?.(report);
        })
        .catch((err: unknown) =>
          this.options.onReconcile?.(err instanceof Error ? err : new Error(String(err))),
        );
    }, 25);
  }

  /** Stops a scheduled reconcile. */
  unschedule(): void {
    clearTimeout(this.timer);
    this.after.length = 0;
  }
}

/**
 * Judges the namespace's conntrack entries (`listed`, else listed now through the holder's
 * open line, or by an exec into it when the holder does not answer, as one of an older
 * MicroLab), deletes those the policy denies, and returns the keys of the connections it cut.
 */
async function cutDenied(
  docker: Docker,
  channel: SidecarChannel,
  policy: Policy,
  instance: WorkloadInstance,
  instances: WorkloadInstance[],
  listed?: string,
): Promise<string[]> {
  const sidecarId = channel.sidecarId;
  const listing =
    listed ??
    (await channel.list().catch(async () => {
      const listed = await execIn(docker, sidecarId, ['conntrack', '-L']);
      if (listed.exitCode !== 0)
        throw new Error(
          `conntrack -L failed (exit ${listed.exitCode}): ${listed.output.trim().slice(0, 300)}`,
        );
      return listed.output;
    }));
  const cuts = connectionsToCut(policy, instance, instances, parseConntrack(listing));
  if (cuts.length === 0) return [];
  const result = await execIn(docker, sidecarId, ['sh', '-c', cutScript(cuts)]);
  const done = parseCutResults(result.output);
  return cuts.filter((_, i) => done.has(i)).map((c) => connectionKey(c.entry));
}
