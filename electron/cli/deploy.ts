/**
 * How the CLI shows deployments and load: the status table, the live load lines and the
 * final report.
 */
import type { DeploymentStatus, LoadEndpointStats, LoadReport, LoadUpdate, TaskInfo } from '../api/contract';
import type { Services } from '../services';

function mb(bytes: number | undefined): string {
  return bytes === undefined ? '-' : `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

export function formatDeployment(status: DeploymentStatus): string {
  if (!status.deployment) return 'Deployment: none (start one with `microlab up monolith|microservices`)\n';
  const total = status.workloads.reduce((sum, w) => sum + (w.memoryBytes ?? 0), 0);
  const lines = [
    `Deployment: ${status.deployment} (${status.healthy ? 'healthy' : 'NOT healthy'})${status.storefront ? `, storefront at ${status.storefront}` : ''}`,
    `  ${'CONTAINER'.padEnd(34)} ${'STATE'.padEnd(8)} ${'HEALTH'.padEnd(9)} ${'IP'.padEnd(15)} ${'MEMORY'.padStart(7)}  VERSION`,
    ...status.workloads.map(
      (w) =>
        `  ${w.container.padEnd(34)} ${w.state.padEnd(8)} ${w.health.padEnd(9)} ${(w.ip ?? '-').padEnd(15)} ${mb(w.memoryBytes).padStart(7)}  ${w.version ?? ''}`,
    ),
    ...(status.balancer
      ? [
          `  ${status.balancer.container.padEnd(34)} ${status.balancer.state.padEnd(8)} ${status.balancer.health.padEnd(9)} ${'-'.padEnd(15)} ${mb(status.balancer.memoryBytes).padStart(7)}  load balancer in front of every ${status.balancer.target}`,
        ]
      : []),
    `  ${status.workloads.length + (status.balancer ? 1 : 0)} containers, ${mb(total + (status.balancer?.memoryBytes ?? 0))} in all; networks: ${status.networks.map((n) => `${n.name} ${n.subnet}${n.internal ? ' (internal)' : ''}`).join(', ')}`,
  ];
  return lines.join('\n') + '\n';
}

const row = (s: LoadEndpointStats) =>
  `  ${s.endpoint.padEnd(28)} ${String(s.count).padStart(6)} ${String(s.errors).padStart(6)} ${s.rps.toFixed(1).padStart(7)} ${s.p50.toFixed(1).padStart(7)} ${s.p95.toFixed(1).padStart(7)} ${s.p99.toFixed(1).padStart(7)}`;
const header = `  ${'ENDPOINT'.padEnd(28)} ${'COUNT'.padStart(6)} ${'ERRORS'.padStart(6)} ${'RPS'.padStart(7)} ${'P50 ms'.padStart(7)} ${'P95 ms'.padStart(7)} ${'P99 ms'.padStart(7)}`;

export function formatLoadUpdate(update: LoadUpdate): string {
  const all = update.window.find((s) => s.endpoint === 'all');
  return `${update.elapsed.toFixed(0).padStart(4)}s/${update.duration}s  ${all?.rps.toFixed(1) ?? 0} req/s  errors ${all?.errors ?? 0}  p50 ${all?.p50 ?? 0} ms  p95 ${all?.p95 ?? 0} ms  p99 ${all?.p99 ?? 0} ms\n`;
}

/** A capacity search's steps and its knee, one line each. */
function capacityLines(capacity: NonNullable<LoadReport['capacity']>): string[] {
  const o = capacity.options;
  return [
    `Capacity search: each step ${o.stepSeconds}s; bounds p95 ${o.p95Ms} ms, failed requests ${(o.maxErrorRate * 100).toFixed(1)}%`,
    `  ${'OFFERED/s'.padStart(10)} ${'SERVED/s'.padStart(9)} ${'REQUESTS'.padStart(9)} ${'ERRORS'.padStart(7)} ${'P95 ms'.padStart(8)}  WITHIN BOUNDS`,
    ...capacity.steps.map(
      (s) =>
        `  ${String(s.rate).padStart(10)} ${s.served.toFixed(1).padStart(9)} ${String(s.requests).padStart(9)} ${String(s.errors).padStart(7)} ${s.p95.toFixed(1).padStart(8)}  ${s.ok ? 'yes' : `no: ${s.over ?? ''}`}`,
    ),
    capacity.knee
      ? `Knee: ${capacity.knee.served} requests/s served at ${capacity.knee.rate}/s offered (p95 ${capacity.knee.p95} ms): ${capacity.reason}`
      : `No knee: ${capacity.reason}`,
  ];
}

export function formatLoadReport(report: LoadReport): string {
  return (
    [
      report.capacity
        ? `Capacity search on the ${report.deployment}, from ${report.rate}/s (${report.started} scenarios started, ${report.dropped} dropped)`
        : `Load on the ${report.deployment}: ${report.rate}/s for ${report.duration}s (${report.started} scenarios started, ${report.dropped} dropped)`,
      ...(report.capacity ? capacityLines(report.capacity) : []),
      header,
      ...report.endpoints.map(row),
      ...(report.errorSamples.length ? ['Errors seen:', ...report.errorSamples.map((e) => `  ${e}`)] : []),
    ].join('\n') + '\n'
  );
}

/** Prints a load's live lines until its task ends; Ctrl-C cancels it. */
export async function followLoad(
  services: Services,
  task: TaskInfo,
  out: NodeJS.WriteStream,
  live: boolean,
): Promise<TaskInfo> {
  const dispose = services.events.on('load:update', (update) => {
    if (live && update.taskId === task.id) out.write(formatLoadUpdate(update));
  });
  const onSigint = () => services.tasks.cancel(task.id);
  process.on('SIGINT', onSigint);
  try {
    return await services.tasks.wait(task.id);
  } finally {
    dispose();
    process.off('SIGINT', onSigint);
  }
}
