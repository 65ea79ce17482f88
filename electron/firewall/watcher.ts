/**
 * Keeps an enforcer's tables current while workloads come and go: follows the project's
 * container events (re-subscribing whenever the engine connection drops, see
 * engine/events.ts) and reconciles after each change.
 *
 *   a workload starts, dies or goes      its peers' tables change (its address comes or goes)
 *   a sidecar dies                       the enforcer starts a new one (the rules stayed)
 *   a pod's holder starts again          its namespace is new and closed: its table is
 *                                        loaded, then its app restarts into it (`pods`)
 *   a pod's holder dies, its app stays   it is started again (`pods`): `docker kill` is a
 *                                        manual stop, which no restart policy undoes
 *   the engine comes back                everything is checked again (events were missed)
 */
import type Docker from 'dockerode';
import type { EngineConnection } from '../engine/events';
import { followEvents } from '../engine/events';
import { LABEL } from '../engine/labels';
import type { Enforcer } from './enforcer';
import { removeOrphanHolders, restartJoined, restorePods, reviveHolder } from './holder';
import { FIREWALL_ROLE, HOLDER_LABEL } from './sidecar';

export interface WatchOptions {
  /** Restore pods: revive killed holders, restart apps into holders that started again (the agent). */
  pods?: boolean;
  onConnection?: (change: EngineConnection) => void;
  /** Something went wrong in a step the watcher took by itself. */
  onError?: (err: Error) => void;
}

/** Follows the project's Docker events for `enforcer`; returns the disposer. */
export function watchEnforcer(
  enforcer: Enforcer,
  docker: Docker,
  project: string,
  options: WatchOptions = {},
): () => void {
  const fail = (err: unknown) => options.onError?.(err instanceof Error ? err : new Error(String(err)));
  const restoreAll = () => {
    enforcer.forget();
    if (!options.pods) return enforcer.schedule();
    restorePods(docker, project)
      .catch(fail)
      .finally(() =>
        enforcer.schedule(async () => {
          await restorePods(docker, project, { restartApps: true }).catch(fail);
        }),
      );
  };
  const stop = followEvents(docker, {
    filters: {
      type: ['container'],
      event: ['start', 'die', 'destroy'],
      label: [`${LABEL.project}=${project}`],
    },
    onConnection: (change) => {
      options.onConnection?.(change);
      // First contact, or back after a loss: state may have changed unseen.
      if (change.state !== 'lost') restoreAll();
    },
    onEvent: (event) => {
      const labels = event.Actor?.Attributes ?? {};
      const role = labels[LABEL.role];
      const id = event.Actor?.ID ?? event.id;
      if (!id) return;
      if (role === 'workload') {
        enforcer.forget(id);
        // A pod whose app was removed (by hand, or by a process that died half way) goes whole.
        if (options.pods && event.Action === 'destroy') {
          const gone = { name: labels.name ?? '', at: event.time ?? Math.floor(Date.now() / 1000) };
          void removeOrphanHolders(docker, project, { gone }).catch(fail);
        }
        return enforcer.schedule();
      }
      if (role !== FIREWALL_ROLE) return;
      if (labels[HOLDER_LABEL] === undefined) return enforcer.schedule();
      // A pod's holder.
      enforcer.forget(id);
      if (!options.pods) return enforcer.schedule();
      if (event.Action === 'start')
        return enforcer.schedule(async () => {
          await restartJoined(docker, project, id);
        });
      if (event.Action === 'die') void reviveHolder(docker, project, id).catch(fail);
      enforcer.schedule();
    },
  });
  return () => {
    stop();
    enforcer.unschedule();
  };
}
