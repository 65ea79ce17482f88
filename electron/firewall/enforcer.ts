/**
 * The enforcer: keeps every workload instance's namespace holding the table the policy
 * compiles to, for the instances running now.
 *
 *   apply(policy)  compile for the current instances, make sure each has a live sidecar,
 *                  load (in parallel, atomically per instance) only the tables that changed
 *   secure(...)    load a new pod's table into its holder before its app exists (holder.ts)
 *   schedule()     reconcile soon; watcher.ts calls it on the project's Docker events
 *
 * A policy reaches the enforcer only after it validated (policy.ts), so a bad file changes
 * nothing. The enforcer takes whatever labeled instances exist: it knows no shop.
 */
import type Docker from 'dockerode';
import { performance } from 'node:perf_hooks';
import { baseImageName } from '../engine/images';
import { LABEL } from '../engine/labels';
import { LAYOUT_LABEL } from '../topology/perimeter';
import type { WorkloadInstance } from '../topology/workload';
import { compileTable, removeTableText } from './compile';
import { connectionKey, connectionsToCut, cutScript, parseConntrack, parseCutResults } from './cut';
import type { Mode, Policy } from './policy';
import { listInstances } from './instances';
import type { Sidecar } from './sidecar';
import { execIn } from '../engine/exec';
import { createSidecar, listSidecars, SidecarChannel } from './sidecar';

export interface TableStatus {
  workload: string;
  container: string;
  containerId: string;
  sidecar: string;
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
  sidecarsCreated: number;
  sidecarsRemoved: number;
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

export interface ApplyOptions {
  /** Keep connections opened under the previous policy (a stateful firewall's default). */
  keepEstablished?: boolean;
}

interface KnownSidecar {
  id: string;
  name: string;
}

export interface EnforcerOptions {
  image?: string;
  /**
   * Only pods (workloads with a namespace holder) get tables; workloads that own their
   * namespace are left to whoever applied the policy (the agent runs so).
   */
  podsOnly?: boolean;
  /** Called after every reconcile the enforcer starts by itself (Docker events). */
  onReconcile?: (report: ApplyReport | Error) => void;
}

export class Enforcer {
  private policy?: Policy;
  private keepEstablished = false;
  /** Namespace owner id (a pod's holder, else the workload container) -> the table text it holds. */
  private readonly applied = new Map<string, string>();
  /** Workload container id -> its sidecar, checked fresh (started after the workload). */
  private readonly sidecars = new Map<string, KnownSidecar>();
  /** Open lines to the sidecars' main processes, by sidecar id. */
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
   * Forgets what it believes a namespace holds (by its owner's id: a holder, or a workload
   * container that owns its namespace), so the next reconcile loads it again.
   */
  forget(containerId?: string): void {
    if (containerId === undefined) {
      this.applied.clear();
      this.sidecars.clear();
    } else {
      this.applied.delete(containerId);
      this.sidecars.delete(containerId);
    }
  }

  private async reconcileOnce(cuts: boolean): Promise<ApplyReport> {
    const start = performance.now();
    const policy = this.policy;
    const keepEstablished = this.keepEstablished || !cuts;
    const report: ApplyReport = {
      ...(policy?.name ? { policy: policy.name } : {}),
      instances: 0,
      loaded: 0,
      unchanged: 0,
      failed: 0,
      sidecarsCreated: 0,
      sidecarsRemoved: 0,
      connectionsCut: 0,
      keptEstablished: keepEstablished,
      durationMs: 0,
      tables: [],
    };
    if (!policy) return report;
    // Behind a perimeter the router decides (perimeter-router.ts): a workload started in that
    // layout gets no table of its own, even while `up` switches to it under a flat policy.
    const perimeter = await this.docker.listContainers({
      filters: { label: [`${LABEL.project}=${this.project}`, `${LAYOUT_LABEL}=perimeter`] },
    });
    if (perimeter.length) return report;
    const [instances, sidecars] = await Promise.all([
      listInstances(this.docker, this.project),
      listSidecars(this.docker, this.project),
    ]);
    // Peers are every instance; tables go to those this enforcer keeps.
    const kept = this.options.podsOnly ? instances.filter((i) => i.holder) : instances;
    report.instances = kept.length;
    const live = new Set(instances.map((i) => i.containerId));
    const liveNamespaces = new Set(instances.map(namespaceOf));

    // Sidecars of instances that are gone go with them (a pod's holder belongs to its pod).
    await Promise.all(
      sidecars
        .filter((s) => !s.holder && !live.has(s.target))
        .map(async (s) => {
          this.forget(s.target);
          this.channels.get(s.id)?.close();
          this.channels.delete(s.id);
          await this.docker
            .getContainer(s.id)
            .remove({ force: true })
            .catch(() => undefined);
          report.sidecarsRemoved++;
        }),
    );
    for (const id of [...this.applied.keys()]) if (!liveNamespaces.has(id)) this.forget(id);

    const byTarget = new Map(
      sidecars.filter((s) => !s.holder && live.has(s.target)).map((s) => [s.target, s]),
    );
    const holders = new Map(sidecars.filter((s) => s.holder).map((s) => [s.id, s]));
    const cut = new Set<string>();
    report.tables = await Promise.all(
      kept.map(async (instance): Promise<TableStatus> => {
        const ns = namespaceOf(instance);
        const table = compileTable(policy, instance, instances);
        const status: TableStatus = {
          workload: instance.name,
          container: instance.containerName,
          containerId: instance.containerId,
          sidecar: '',
          mode: table.mode,
          loaded: false,
        };
        try {
          const { sidecar, created } = instance.holder
            ? {
                sidecar: holders.get(instance.holder) ?? { id: instance.holder, name: instance.holder },
                created: false,
              }
            : await this.sidecarFor(instance, byTarget.get(instance.containerId));
          status.sidecar = sidecar.name;
          if (created) report.sidecarsCreated++;
          if (this.applied.get(ns) === table.text) return status;
          await this.channel(sidecar.id).load(table.text);
          this.applied.set(ns, table.text);
          status.loaded = true;
          if (!keepEstablished && table.mode === 'enforce') {
            try {
              const keys = await cutDenied(
                this.docker,
                this.channel(sidecar.id),
                policy,
                instance,
                instances,
              );
              status.cut = keys.length;
              for (const k of keys) cut.add(k);
            } catch (err) {
              status.cutError = (err as Error).message;
            }
          }
        } catch (err) {
          this.applied.delete(ns);
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
    const instances = (await listInstances(this.docker, this.project)).filter(
      (i) => i.containerId !== pending.containerId,
    );
    const table = policy
      ? compileTable(policy, pending, [...instances, pending])
      : { text: removeTableText(), mode: 'off' as const };
    await this.channel(holderId).load(table.text);
    this.applied.set(holderId, table.text);
  }

  private channel(sidecarId: string): SidecarChannel {
    let channel = this.channels.get(sidecarId);
    if (!channel) this.channels.set(sidecarId, (channel = new SidecarChannel(this.docker, sidecarId)));
    return channel;
  }

  /** Closes the lines to the sidecars (the rules stay loaded). */
  close(): void {
    for (const channel of this.channels.values()) channel.close();
    this.channels.clear();
  }

  /** The instance's live sidecar: the known one, or a checked existing one, or a new one. */
  private async sidecarFor(
    instance: WorkloadInstance,
    existing: Sidecar | undefined,
  ): Promise<{ sidecar: KnownSidecar; created: boolean }> {
    const known = this.sidecars.get(instance.containerId);
    if (known && existing?.id === known.id && existing.running) return { sidecar: known, created: false };
    if (existing?.running && (await this.isFresh(existing, instance))) {
      const sidecar = { id: existing.id, name: existing.name };
      this.sidecars.set(instance.containerId, sidecar);
      return { sidecar, created: false };
    }
    // Missing, dead, or stuck in the namespace of an earlier run of the workload.
    const created = await createSidecar(
      this.docker,
      this.project,
      instance,
      this.options.image ?? baseImageName(),
    );
    const sidecar = { id: created.id, name: created.name };
    this.sidecars.set(instance.containerId, sidecar);
    return { sidecar, created: true };
  }

  /** A sidecar started before its workload's latest start shares a namespace that no longer exists. */
  private async isFresh(sidecar: Sidecar, instance: WorkloadInstance): Promise<boolean> {
    const [s, w] = await Promise.all([
      this.docker.getContainer(sidecar.id).inspect(),
      this.docker.getContainer(instance.containerId).inspect(),
    ]);
    // (A sidecar of an older MicroLab that takes no tables on its input is replaced too.)
    return s.Config.OpenStdin && Date.parse(s.State.StartedAt) >= Date.parse(w.State.StartedAt);
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

/** The id of the container that owns an instance's network namespace. */
export function namespaceOf(instance: WorkloadInstance): string {
  return instance.holder ?? instance.containerId;
}

/**
 * Lists the namespace's conntrack entries (through its sidecar's open line; by an exec into
 * it when the sidecar does not answer, as one of an older MicroLab), deletes those the policy
 * denies, and returns the keys of the connections it cut.
 */
async function cutDenied(
  docker: Docker,
  channel: SidecarChannel,
  policy: Policy,
  instance: WorkloadInstance,
  instances: WorkloadInstance[],
): Promise<string[]> {
  const sidecarId = channel.sidecarId;
  const listing = await channel.list().catch(async () => {
    const listed = await execIn(docker, sidecarId, ['conntrack', '-L']);
    if (listed.exitCode !== 0)
      throw new Error(`conntrack -L failed (exit ${listed.exitCode}): ${listed.output.trim().slice(0, 300)}`);
    return listed.output;
  });
  const cuts = connectionsToCut(policy, instance, instances, parseConntrack(listing));
  if (cuts.length === 0) return [];
  const result = await execIn(docker, sidecarId, ['sh', '-c', cutScript(cuts)]);
  const done = parseCutResults(result.output);
  return cuts.filter((_, i) => done.has(i)).map((c) => connectionKey(c.entry));
}
