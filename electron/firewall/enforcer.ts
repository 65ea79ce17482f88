/**
 * The enforcer: keeps every workload instance's namespace holding the table the policy
 * compiles to, for the instances running now.
 *
 *   apply(policy)  compile for the current instances, make sure each has a live sidecar,
 *                  load (in parallel, atomically per instance) only the tables that changed
 *   watch()        follow the project's Docker events: an instance that starts, dies or is
 *                  removed changes the peer sets, so recompute and reload what changed; a
 *                  sidecar that dies is restored (its rules stayed in the namespace anyway);
 *                  the engine connection lost is subscribed again (engine/events.ts)
 *
 * A policy reaches the enforcer only after it validated (policy.ts), so a bad file changes
 * nothing. The enforcer takes whatever labeled instances exist: it knows no shop.
 */
import type Docker from 'dockerode';
import { performance } from 'node:perf_hooks';
import type { EngineConnection } from '../engine/events';
import { followEvents } from '../engine/events';
import { baseImageName } from '../engine/images';
import { LABEL } from '../engine/labels';
import { LAYOUT_LABEL } from '../topology/perimeter';
import type { WorkloadInstance } from '../topology/workload';
import { compileTable } from './compile';
import { connectionKey, connectionsToCut, cutScript, parseConntrack, parseCutResults } from './cut';
import type { Mode, Policy } from './policy';
import { listInstances } from './instances';
import type { Sidecar } from './sidecar';
import { createSidecar, execIn, FIREWALL_ROLE, listSidecars, SidecarChannel } from './sidecar';

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
  /** Called after every reconcile the enforcer starts by itself (Docker events). */
  onReconcile?: (report: ApplyReport | Error) => void;
}

export class Enforcer {
  private policy?: Policy;
  private keepEstablished = false;
  /** Workload container id -> the table text its namespace holds. */
  private readonly applied = new Map<string, string>();
  /** Workload container id -> its sidecar, checked fresh (started after the workload). */
  private readonly sidecars = new Map<string, KnownSidecar>();
  /** Open lines to the sidecars' main processes, by sidecar id. */
  private readonly channels = new Map<string, SidecarChannel>();
  private running?: Promise<ApplyReport>;
  private next?: Promise<ApplyReport>;
  private timer?: NodeJS.Timeout;

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
  async apply(policy: Policy, options: ApplyOptions = {}): Promise<ApplyReport> {
    this.policy = policy;
    this.keepEstablished = options.keepEstablished ?? false;
    return this.reconcile();
  }

  /** Recomputes and reloads what changed; calls made while one runs are folded into one more run. */
  reconcile(): Promise<ApplyReport> {
    if (this.running) {
      this.next ??= this.running
        .catch(() => undefined)
        .then(() => {
          this.next = undefined;
          return this.reconcile();
        });
      return this.next;
    }
    this.running = this.reconcileOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Forgets what it believes a namespace holds, so the next reconcile loads it again. */
  forget(containerId?: string): void {
    if (containerId === undefined) {
      this.applied.clear();
      this.sidecars.clear();
    } else {
      this.applied.delete(containerId);
      this.sidecars.delete(containerId);
    }
  }

  private async reconcileOnce(): Promise<ApplyReport> {
    const start = performance.now();
    const policy = this.policy;
    const keepEstablished = this.keepEstablished;
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
    report.instances = instances.length;
    const live = new Set(instances.map((i) => i.containerId));

    // Sidecars of instances that are gone go with them.
    await Promise.all(
      sidecars
        .filter((s) => !live.has(s.target))
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
    for (const id of [...this.applied.keys()]) if (!live.has(id)) this.forget(id);

    const byTarget = new Map(sidecars.filter((s) => live.has(s.target)).map((s) => [s.target, s]));
    const cut = new Set<string>();
    report.tables = await Promise.all(
      instances.map(async (instance): Promise<TableStatus> => {
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
          const { sidecar, created } = await this.sidecarFor(instance, byTarget.get(instance.containerId));
          status.sidecar = sidecar.name;
          if (created) report.sidecarsCreated++;
          if (this.applied.get(instance.containerId) === table.text) return status;
          await this.channel(sidecar.id).load(table.text);
          this.applied.set(instance.containerId, table.text);
          status.loaded = true;
          if (!keepEstablished && table.mode === 'enforce') {
            try {
              const keys = await cutDenied(this.docker, sidecar.id, policy, instance, instances);
              status.cut = keys.length;
              for (const k of keys) cut.add(k);
            } catch (err) {
              status.cutError = (err as Error).message;
            }
          }
        } catch (err) {
          this.applied.delete(instance.containerId);
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

  /**
   * Follows the project's container events and reconciles after each change (debounced a
   * little, so a scale-out of several replicas is one reload). When the connection to the
   * engine drops it says so (`onConnection`) and subscribes again until the engine answers;
   * back, it checks every table again (events in between were missed). Returns the disposer.
   */
  watch(onConnection?: (change: EngineConnection) => void): () => void {
    const stop = followEvents(this.docker, {
      filters: {
        type: ['container'],
        event: ['start', 'die', 'destroy'],
        label: [`${LABEL.project}=${this.project}`],
      },
      onConnection: (change) => {
        onConnection?.(change);
        if (change.state === 'restored') {
          this.forget();
          this.schedule();
        }
      },
      onEvent: (event) => {
        const labels = event.Actor?.Attributes ?? {};
        const role = labels[LABEL.role];
        const id = event.Actor?.ID ?? event.id;
        if (role === 'workload') {
          if (id) this.forget(id);
        } else if (role !== FIREWALL_ROLE) return;
        this.schedule();
      },
    });
    return () => {
      stop();
      clearTimeout(this.timer);
    };
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.reconcile().then(
        (report) => this.options.onReconcile?.(report),
        (err: unknown) => this.options.onReconcile?.(err instanceof Error ? err : new Error(String(err))),
      );
    }, 25);
  }
}

/**
 * Lists the namespace's conntrack entries (through its sidecar), deletes those the policy
 * denies, and returns the keys of the connections it cut.
 */
async function cutDenied(
  docker: Docker,
  sidecarId: string,
  policy: Policy,
  instance: WorkloadInstance,
  instances: WorkloadInstance[],
): Promise<string[]> {
  const listed = await execIn(docker, sidecarId, ['conntrack', '-L']);
  if (listed.exitCode !== 0)
    throw new Error(`conntrack -L failed (exit ${listed.exitCode}): ${listed.output.trim().slice(0, 300)}`);
  const cuts = connectionsToCut(policy, instance, instances, parseConntrack(listed.output));
  if (cuts.length === 0) return [];
  const result = await execIn(docker, sidecarId, ['sh', '-c', cutScript(cuts)]);
  const done = parseCutResults(result.output);
  return cuts.filter((_, i) => done.has(i)).map((c) => connectionKey(c.entry));
}
