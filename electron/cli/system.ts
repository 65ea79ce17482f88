/**
 * The CLI's own commands and the engine's: help, version, doctor, status, images, down, web.
 */
import path from 'node:path';
import type { DoctorReport, ImageInfo, StatusReport } from '../api/contract';
import { redact, startWebServer } from '../api/ws-server';
import { formatBytes } from '../engine/doctor';
import { APP_VERSION } from '../engine/labels';
import { rendererDir } from '../paths';
import type { Services } from '../services';
import { reconcileOnStart } from '../services';
import { formatDeployment } from './deploy';
import { printJson, printResult, table } from './output';
import type { Cli } from './program';
import { architectureList, UsageError, wholeNumber } from './values';

const MARK = { pass: '✔', warn: '!', fail: '✘', skip: '-' } as const;

export function systemCommands(cli: Cli): void {
  const { program } = cli;

  cli
    .command(program, 'help', 'every command and its options; with COMMAND, that one in full')
    .argument('[COMMAND...]', 'a command, e.g. policy apply')
    .action((topic) => {
      const cmd = topic.length ? cli.find(topic) : undefined;
      if (topic.length && !cmd)
        throw new UsageError(
          `unknown command ${JSON.stringify(topic.join(' '))}: \`microlab help\` lists them`,
        );
      const text = cmd ? cmd.helpInformation() : cli.usage();
      cli.done({ name: 'help', topic }, (_v, rt) => {
        rt.out.write(text);
        return Promise.resolve(0);
      });
    });

  cli.command(program, 'version', "MicroLab's version").action(() =>
    cli.done({ name: 'version' }, (_v, rt) => {
      rt.out.write(`microlab ${APP_VERSION}\n`);
      return Promise.resolve(0);
    }),
  );

  cli
    .command(program, 'doctor', 'check the Docker engine, images, firewall support and subnets')
    .option('--json', 'the report as JSON')
    .action((o) =>
      cli.done({ name: 'doctor', json: Boolean(o.json) }, async (c, rt) => {
        const report = await rt.call('engine:doctor', {});
        printResult(rt.out, c.json, report, formatDoctor);
        return report.ok ? 0 : 1;
      }),
    );

  cli
    .command(program, 'status', 'the engine, the images and what MicroLab is running')
    .option('--json', 'the engine, images and deployment as JSON')
    .action((o) =>
      cli.done({ name: 'status', json: Boolean(o.json) }, async (c, rt) => {
        const [report, deployment] = await Promise.all([
          rt.call('engine:status', {}),
          rt.call('deploy:status', {}),
        ]);
        if (c.json) printJson(rt.out, { ...report, deployment });
        else rt.out.write(formatStatus(report) + formatDeployment(deployment));
        return 0;
      }),
    );

  const images = cli.group(program, 'images', 'the images the labs use');
  cli
    .command(images, 'ls', 'the images the labs use, with sizes and architectures')
    .alias('list')
    .option('--json', 'the images as JSON')
    .action((o) =>
      cli.done({ name: 'images-ls', json: Boolean(o.json) }, async (c, rt) => {
        const list = await rt.call('images:list', {});
        printResult(rt.out, c.json, list, formatImages);
        return 0;
      }),
    );
  cli
    .command(images, 'prepare', 'provide every image the labs need (present, bundle, build, or offline)')
    .option('--bundle <FILE>', 'load them from a classroom bundle first')
    .option(
      '--arch <LIST>',
      "architectures to prepare, e.g. amd64,arm64 (default: the engine's); another is built offline under QEMU",
      architectureList,
    )
    .action((o) =>
      cli.done(
        {
          name: 'images-prepare',
          ...(o.bundle !== undefined ? { bundle: o.bundle } : {}),
          ...(o.arch !== undefined ? { architectures: o.arch } : {}),
        },
        (c, rt) =>
          rt.follow(() =>
            rt.call('images:prepare', {
              ...(c.bundle ? { bundle: path.resolve(c.bundle) } : {}),
              ...(c.architectures ? { architectures: c.architectures } : {}),
            }),
          ),
      ),
    );
  cli
    .command(images, 'import', "load the engine's own architecture from a classroom bundle")
    .argument('<FILE>', 'a bundle written by `images export`')
    .action((file) =>
      cli.done({ name: 'images-import', file }, (c, rt) =>
        rt.follow(() => rt.call('images:import', { file: path.resolve(c.file) })),
      ),
    );
  cli
    .command(images, 'export', 'write every image the labs need, of every architecture prepared, to one file')
    .argument('<FILE>', 'the bundle to write')
    .action((file) =>
      cli.done({ name: 'images-export', file }, (c, rt) =>
        rt.follow(() => rt.call('images:export', { file: path.resolve(c.file) })),
      ),
    );

  cli
    .command(program, 'down', 'remove everything MicroLab created (with --images, its images too)')
    .option('--images', 'remove the lab images too')
    .action((o) =>
      cli.done({ name: 'down', images: Boolean(o.images) }, async (c, rt) => {
        const report = await rt.call('resources:down', { images: c.images });
        for (const r of report.removed) rt.out.write(`removed ${r.kind} ${r.name}\n`);
        for (const f of report.failed)
          rt.err.write(
            `could not remove ${f.resource.kind} ${f.resource.name}: ${f.error}\n${f.hint ? `  hint: ${f.hint}\n` : ''}`,
          );
        rt.out.write(downSummary(report.removed.length, report.failed.length));
        return report.failed.length ? 1 : 0;
      }),
    );

  cli
    .command(program, 'web', 'serve the app to a browser on 127.0.0.1')
    .option('--port <N>', 'the port (default: a free one)', wholeNumber('--port', 1, 65535))
    .action((o) =>
      cli.done({ name: 'web', ...(o.port !== undefined ? { port: o.port } : {}) }, (c, rt) =>
        serveWeb(rt.services, c.port, rt.out),
      ),
    );
}

/** The last line of `down`: what went, and what is left (never "nothing to remove" while something is). */
export function downSummary(removed: number, failed: number): string {
  if (failed === 0) return removed ? `${removed} removed.\n` : 'Nothing to remove.\n';
  const left = `${failed} left (see above)`;
  return removed ? `${removed} removed, ${left}.\n` : `Nothing removed: ${left}.\n`;
}

export function formatDoctor(report: DoctorReport): string {
  const lines = [`MicroLab doctor (${report.platform})`];
  for (const c of report.checks) {
    lines.push(`${MARK[c.status]} ${c.title}: ${c.summary}`);
    if (c.hint) lines.push(`    hint: ${c.hint}`);
  }
  lines.push(report.ok ? 'Ready for the labs.' : 'Not ready: fix the items marked ✘ above.');
  return lines.join('\n') + '\n';
}

function imageRows(images: ImageInfo[]): string[] {
  return table(
    images.map((i) => [
      i.present ? '✔' : '✘',
      i.name,
      i.present ? formatBytes(i.sizeBytes ?? 0) : 'missing',
      i.architecture ?? '',
      `${i.role}${i.required ? '' : ' (not required)'}`,
    ]),
    { align: ['left', 'left', 'right'], gap: [' ', '  ', '  ', '  '] },
  );
}

function formatImages(images: ImageInfo[]): string {
  return imageRows(images).join('\n') + '\n';
}

function formatStatus(report: StatusReport): string {
  const lines = [
    `Engine: ${report.engineName} ${report.engineVersion} at ${report.endpoint.address} (${report.endpoint.source})`,
    `Project: ${report.project}`,
    'Images:',
    ...imageRows(report.images).map((l) => `  ${l}`),
    report.resources.length ? 'Running:' : 'Running: nothing',
    ...table(
      report.resources.map((r) => [r.kind, `${r.name}${r.state ? ` (${r.state})` : ''}`]),
      { indent: '  ' },
    ),
  ];
  return lines.join('\n') + '\n';
}

async function serveWeb(
  services: Services,
  port: number | undefined,
  out: NodeJS.WriteStream,
): Promise<number> {
  await reconcileOnStart(services);
  // Keep the policy in force on workloads that come and go while the app runs.
  const stopFirewall = await services.firewall.watch().catch(() => undefined);
  // Say when the firewall's watcher loses the engine and when it has it again.
  const stopEngineLog = services.events.on('engine:connection', (change) => {
    if (change.state === 'lost') out.write(`the Docker engine went away (${change.reason}); reconnecting\n`);
    if (change.state === 'restored')
      out.write(
        `the Docker engine is back after ${(change.downMs / 1000).toFixed(1)} s; tables checked again\n`,
      );
  });
  const server = await startWebServer({
    handlers: services.handlers,
    events: services.events,
    staticDir: rendererDir(),
    port,
  });
  out.write(
    `MicroLab is serving its UI at ${server.url}\n(127.0.0.1 only; the token changes each run. Ctrl-C stops it.)\n`,
  );
  // What nothing else caught is told and survived: a page must not be able to end the server.
  const survive = (what: string) => (error: unknown) =>
    process.stderr.write(
      `microlab web: ${what} (kept running): ${redact(error instanceof Error ? (error.stack ?? error.message) : String(error), server.token)}\n`,
    );
  const onRejection = survive('a promise failed with nobody waiting for it');
  const onException = survive('an unexpected error');
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    process.once('SIGHUP', resolve);
  });
  stopEngineLog();
  stopFirewall?.();
  services.firewall.close();
  await server.close();
  // The browsers' sessions end with their processes in the containers before this process does.
  await services.terminal.closeAll();
  // A class joined from the app stops asking its host (unsent events wait in its outbox).
  await services.klass.stop();
  process.off('unhandledRejection', onRejection);
  process.off('uncaughtException', onException);
  return 0;
}
