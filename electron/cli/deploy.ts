/**
 * The deployment's commands (up, scale, upgrade, load) and how the CLI shows deployments and
 * load: the status table, the live load lines and the final report.
 */
import type { DeploymentStatus, LoadEndpointStats, LoadReport, LoadUpdate, TaskInfo } from '../api/contract';
import { DEPLOYMENTS } from '../api/vocabulary';
import type { DeploymentName } from '../api/vocabulary';
import type { Services } from '../services';
import { printResult, table } from './output';
import type { Cli } from './program';
import { decimal, parseDuration, parseMix, UsageError, wholeNumber } from './values';

export function deployCommands(cli: Cli): void {
  const { program } = cli;

  cli
    .command(
      program,
      'up',
      "start the shop (replacing the other deployment), wait until healthy and print the storefront's address (127.0.0.1, port 8480 by default)",
    )
    .argument('<DEPLOYMENT>', DEPLOYMENTS.join(' or '))
    .option(
      '--port <N>',
      "the storefront's port on 127.0.0.1 (0: any free one)",
      wholeNumber('--port', 0, 65535),
    )
    .option('--perimeter', 'a network per segment and one firewall between them')
    .action((deployment, o) => {
      if (!(DEPLOYMENTS as readonly string[]).includes(deployment))
        throw new UsageError(
          `up needs a deployment: ${DEPLOYMENTS.join(' or ')}, not ${JSON.stringify(deployment)}`,
        );
      cli.done(
        {
          name: 'up',
          deployment: deployment as DeploymentName,
          ...(o.port !== undefined ? { port: o.port } : {}),
          ...(o.perimeter ? { perimeter: true as const } : {}),
        },
        (c, rt) =>
          rt.follow(() =>
            rt.call('deploy:up', {
              deployment: c.deployment,
              ...(c.port !== undefined ? { port: c.port } : {}),
              ...(c.perimeter ? { layout: 'perimeter' as const } : {}),
            }),
          ),
      );
    });
  cli.synopsis(program.commands.at(-1)!, `up ${DEPLOYMENTS.join('|')} [--port N] [--perimeter]`);

  cli
    .command(program, 'scale', 'run N replicas of a microservice (they share its name)')
    .argument('<SERVICE>', 'a microservice, or shop/app for the monolith')
    .argument('<N>', 'replicas, 1 to 10', wholeNumber('the number of replicas', 1, 10))
    .option(
      '--cpus <C>',
      'every replica limited to C cores (0.25: a quarter of one)',
      decimal('--cpus', 0.05, 4, { unit: 'cores' }),
    )
    .action((service, replicas, o) =>
      cli.done(
        { name: 'scale', service, replicas, ...(o.cpus !== undefined ? { cpus: o.cpus } : {}) },
        (c, rt) =>
          rt.follow(() =>
            rt.call('deploy:scale', {
              service: c.service,
              replicas: c.replicas,
              ...(c.cpus !== undefined ? { cpus: c.cpus } : {}),
            }),
          ),
      ),
    );

  cli
    .command(
      program,
      'upgrade',
      'rolling replacement of a service (the monolith restarts); a new replica that fails within 8 s of being healthy halts the roll and the old version comes back (exit 1). Versions 3 and 4 of catalog are broken on purpose (3: checkout fails; 4: the process hangs)',
    )
    .argument('<SERVICE>', 'a microservice, or shop/app for the monolith')
    .requiredOption('--version <V>', 'the version, 1 to 4', wholeNumber('--version', 1, 4))
    .action((service, o) =>
      cli.done({ name: 'upgrade', service, version: o.version }, (c, rt) =>
        rt.follow(() => rt.call('deploy:upgrade', { service: c.service, version: c.version })),
      ),
    );

  cli
    .command(
      program,
      'load',
      "load the storefront (R scenarios/s for D: 30, 30s or 2m; scenarios: browse, cart, checkout, account, search, signup). With --find-capacity: raise the offered rate from R (default 5/s) step by step until a step's p95 passes MS (default 1000) or its failed requests PCT (default 1); prints each step and the knee (at most D, default 60s)",
    )
    .option('--rate <R>', 'scenarios started per second', decimal('--rate', 0, 1000, { above: true }))
    .option('--duration <D>', '30, 30s or 2m', parseDuration)
    .option('--mix <MIX>', 'weights per scenario: browse=10,cart=3,checkout=1', parseMix)
    .option('--find-capacity', 'search for the highest rate within the bounds')
    .option(
      '--p95 <MS>',
      'the capacity search bound on p95 (ms)',
      decimal('--p95', 0, 60_000, { above: true }),
    )
    .option(
      '--max-errors <PCT>',
      'the capacity search bound on failed requests (%)',
      decimal('--max-errors', 0, 100),
    )
    .option('--json', 'the report as JSON')
    .action((o) => {
      const find = Boolean(o.findCapacity);
      if (!find && (o.p95 !== undefined || o.maxErrors !== undefined))
        throw new UsageError('--p95 and --max-errors bound a capacity search: add --find-capacity');
      const rate = o.rate ?? (find ? 5 : undefined);
      const duration = o.duration ?? (find ? 60 : undefined);
      if (rate === undefined || duration === undefined)
        throw new UsageError('load needs --rate R and --duration D (or --find-capacity)');
      cli.done(
        {
          name: 'load',
          rate,
          duration,
          json: Boolean(o.json),
          ...(o.mix ? { mix: o.mix } : {}),
          ...(find
            ? {
                capacity: {
                  ...(o.p95 !== undefined ? { p95Ms: o.p95 } : {}),
                  ...(o.maxErrors !== undefined ? { maxErrorRate: o.maxErrors / 100 } : {}),
                },
              }
            : {}),
        },
        async (c, rt) => {
          const task = await rt.call('load:run', {
            rate: c.rate,
            duration: c.duration,
            ...(c.mix ? { mix: c.mix } : {}),
            ...(c.capacity ? { capacity: c.capacity } : {}),
          });
          const final = await followLoad(rt.services, task, rt.out, !c.json);
          if (final.state !== 'succeeded') {
            rt.err.write(
              `${task.title}: ${final.state === 'canceled' ? 'canceled' : final.error?.message}\n`,
            );
            return final.state === 'canceled' ? 130 : 1;
          }
          const report = await rt.call('load:report', { taskId: task.id });
          printResult(rt.out, c.json, report, formatLoadReport);
          return 0;
        },
      );
    });
}

function mb(bytes: number | undefined): string {
  return bytes === undefined ? '-' : `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

export function formatDeployment(status: DeploymentStatus): string {
  if (!status.deployment)
    return `Deployment: none (start one with \`microlab up ${DEPLOYMENTS.join('|')}\`)\n`;
  const total = status.workloads.reduce((sum, w) => sum + (w.memoryBytes ?? 0), 0);
  const rows = [
    ['CONTAINER', 'STATE', 'HEALTH', 'IP', 'MEMORY', 'VERSION'],
    ...status.workloads.map((w) => [
      w.container,
      w.state,
      w.health,
      w.ip ?? '-',
      mb(w.memoryBytes),
      w.version ?? '',
    ]),
    ...(status.balancer
      ? [
          [
            status.balancer.container,
            status.balancer.state,
            status.balancer.health,
            '-',
            mb(status.balancer.memoryBytes),
            `load balancer in front of every ${status.balancer.target}`,
          ],
        ]
      : []),
  ];
  const lines = [
    `Deployment: ${status.deployment} (${status.healthy ? 'healthy' : 'NOT healthy'})${status.storefront ? `, storefront at ${status.storefront}` : ''}`,
    ...table(rows, {
      indent: '  ',
      align: ['left', 'left', 'left', 'left', 'right'],
      gap: [' ', ' ', ' ', ' ', '  '],
    }),
    `  ${status.workloads.length + (status.balancer ? 1 : 0)} containers, ${mb(total + (status.balancer?.memoryBytes ?? 0))} in all; networks: ${status.networks.map((n) => `${n.name} ${n.subnet}${n.internal ? ' (internal)' : ''}`).join(', ')}`,
  ];
  return lines.join('\n') + '\n';
}

function endpointTable(endpoints: LoadEndpointStats[]): string[] {
  return table(
    [
      ['ENDPOINT', 'COUNT', 'ERRORS', 'RPS', 'P50 ms', 'P95 ms', 'P99 ms'],
      ...endpoints.map((s) => [
        s.endpoint,
        s.count,
        s.errors,
        s.rps.toFixed(1),
        s.p50.toFixed(1),
        s.p95.toFixed(1),
        s.p99.toFixed(1),
      ]),
    ],
    { indent: '  ', align: ['left', 'right', 'right', 'right', 'right', 'right', 'right'] },
  );
}

/** One second of a load on one line (printed as it comes, so fixed widths). */
export function formatLoadUpdate(update: LoadUpdate): string {
  const all = update.window.find((s) => s.endpoint === 'all');
  return `${update.elapsed.toFixed(0).padStart(4)}s/${update.duration}s  ${all?.rps.toFixed(1) ?? 0} req/s  errors ${all?.errors ?? 0}  p50 ${all?.p50 ?? 0} ms  p95 ${all?.p95 ?? 0} ms  p99 ${all?.p99 ?? 0} ms\n`;
}

/** A capacity search's steps and its knee, one line each. */
function capacityLines(capacity: NonNullable<LoadReport['capacity']>): string[] {
  const o = capacity.options;
  return [
    `Capacity search: each step ${o.stepSeconds}s; bounds p95 ${o.p95Ms} ms, failed requests ${(o.maxErrorRate * 100).toFixed(1)}%`,
    ...table(
      [
        ['OFFERED/s', 'SERVED/s', 'REQUESTS', 'ERRORS', 'P95 ms', 'WITHIN BOUNDS'],
        ...capacity.steps.map((s) => [
          s.rate,
          s.served.toFixed(1),
          s.requests,
          s.errors,
          s.p95.toFixed(1),
          s.ok ? 'yes' : `no: ${s.over ?? ''}`,
        ]),
      ],
      { indent: '  ', align: ['right', 'right', 'right', 'right', 'right'], gap: [' ', ' ', ' ', ' ', '  '] },
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
      ...endpointTable(report.endpoints),
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
