/**
 * The deployment and load methods of the API contract, given to createServices().
 */
import type Docker from 'dockerode';
import type { DeploymentName, LoadReport } from '../api/contract';
import type { Handlers } from '../api/dispatch';
import { ApiError } from '../errors';
import type { EventBus } from '../api/events';
import type { TaskManager } from '../tasks';
import { findRouter, startRouter } from '../firewall/perimeter-router';
import type { Target } from '../topology/apply';
import { currentDeployment, down, scale, status, up, upgrade, UP_STEPS } from '../topology/apply';
import { DEFAULT_STOREFRONT_PORT } from '../topology/declarations';
import { runLoad } from '../topology/load';

type DeploymentMethods =
  | 'deploy:up'
  | 'deploy:down'
  | 'deploy:status'
  | 'deploy:scale'
  | 'deploy:upgrade'
  | 'load:run'
  | 'load:report';

const KEEP_REPORTS = 20;

export function deploymentHandlers(deps: {
  docker: () => Promise<Docker>;
  tasks: TaskManager;
  events: EventBus;
  project: string;
  /** See Target.afterStart: the firewall's reconcile. */
  afterStart?: () => Promise<void>;
  /** See Target.openNamespace: the firewall's pod holder. */
  openNamespace?: Target['openNamespace'];
  /**
   * Called before `up` starts `deployment`, with the deployment running now (if any) still up:
   * a policy belongs to the shape it was applied to, so the firewall sets another shape's
   * policy aside here. Returns what to tell the user, if anything.
   */
  beforeUp?: (deployment: DeploymentName, running: DeploymentName | undefined) => Promise<string | undefined>;
  /** Called with each load's report when it ends (the lab runner records it in the active lab). */
  afterLoad?: (report: LoadReport) => Promise<void>;
  /** See Target.classSeed: the seed of the live class this MicroLab is in, if any. */
  classSeed?: () => Promise<string | undefined>;
}): Pick<Handlers, DeploymentMethods> {
  const { tasks, events, project, afterStart, openNamespace, beforeUp, afterLoad } = deps;
  /** With `creates`, for an operation that may create containers: the class's seed, read now. */
  const target = async (creates = false): Promise<Target> => {
    const classSeed = creates ? await deps.classSeed?.() : undefined;
    return {
      docker: await deps.docker(),
      project,
      ...(classSeed ? { classSeed } : {}),
      perimeter: { find: findRouter, start: startRouter },
      ...(afterStart ? { afterStart } : {}),
      ...(openNamespace ? { openNamespace } : {}),
    };
  };
  const reports = new Map<string, LoadReport>();

  return {
    'deploy:up': async ({ deployment, port, layout }) => {
      const t = await target(true);
      const title = `Start the ${deployment}${layout === 'perimeter' ? ' behind a perimeter firewall' : ''}`;
      return tasks.start('deploy:up', title, UP_STEPS, async (ctx) => {
        const running = await currentDeployment(t.docker, project);
        const note = await beforeUp?.(deployment, running?.name);
        const result = await up(
          t,
          deployment,
          { port: port ?? DEFAULT_STOREFRONT_PORT, ...(layout ? { layout } : {}) },
          ctx,
        );
        return note ? `${result} (${note})` : result;
      });
    },
    'deploy:down': async () => down(await target()),
    'deploy:status': async () => status(await target()),
    'deploy:scale': async ({ service, replicas, cpus }) => {
      const t = await target(true);
      return tasks.start(
        'deploy:scale',
        `Scale ${service} to ${replicas}${cpus !== undefined ? ` at ${cpus} CPU each` : ''}`,
        2,
        (ctx) => scale(t, service, replicas, ctx, cpus),
      );
    },
    'deploy:upgrade': async ({ service, version, watch }) => {
      const t = await target(true);
      return tasks.start('deploy:upgrade', `Upgrade ${service} to version ${version}`, 2, (ctx) =>
        upgrade(t, service, version, ctx, watch),
      );
    },
    'load:run': async (input) => {
      const t = await target();
      const task = tasks.start(
        'load:run',
        input.capacity
          ? `Capacity search from ${input.rate}/s (at most ${input.duration}s)`
          : `Load at ${input.rate}/s for ${input.duration}s`,
        2,
        async (ctx) => {
          const report = await runLoad(
            t,
            task.id,
            input,
            (update) => events.emit('load:update', update),
            ctx,
          );
          reports.set(task.id, report);
          // A lab that cannot record it misses one load; the load itself still succeeded.
          await afterLoad?.(report).catch(() => undefined);
          for (const key of [...reports.keys()].slice(0, Math.max(0, reports.size - KEEP_REPORTS)))
            reports.delete(key);
          const all = report.endpoints.find((e) => e.endpoint === 'all');
          const knee = report.capacity
            ? `capacity ${report.capacity.knee ? `${report.capacity.knee.served} requests/s at ${report.capacity.knee.rate}/s offered` : 'not found'} (${report.capacity.reason}); `
            : '';
          return `${knee}${all?.count ?? 0} requests, ${all?.errors ?? 0} errors, ${all?.rps ?? 0}/s, p50 ${all?.p50 ?? 0} ms, p95 ${all?.p95 ?? 0} ms, p99 ${all?.p99 ?? 0} ms`;
        },
      );
      return task;
    },
    'load:report': async ({ taskId }) => {
      const report = reports.get(taskId);
      if (!report) {
        const known = tasks.list().find((t) => t.id === taskId);
        throw new ApiError(
          'no-report',
          known?.state === 'running' ? 'the load is still running' : `no load report for task ${taskId}`,
        );
      }
      return report;
    },
  };
}
