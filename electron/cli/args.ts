/**
 * The CLI's grammar, as a pure function from argv to a command (or a usage error), so it can
 * be tested without running anything.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { FIREWALL_USAGE, parseFirewallCommand } from './firewall-args';
import type { FirewallCommand } from './firewall-args';
import { parseTerminalCommand, TERMINAL_USAGE } from './terminal-args';
import type { TerminalCommand } from './terminal-args';
import { LAB_USAGE, parseLabCommand } from './lab-args';
import { EXPORT_USAGE, parseExportCommand } from './export-args';
import type { ExportCommand } from './export-args';
import type { LabCommand } from './lab-args';
import { LOAD_SCENARIOS } from '../api/contract';
import type { DeploymentName, LoadScenario } from '../api/contract';
import { parseArchitectures } from '../engine/arch';
import type { Architecture } from '../engine/arch';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

export type Command =
  | FirewallCommand
  | TerminalCommand
  | LabCommand
  | ExportCommand
  | { name: 'help'; topic?: string }
  | { name: 'version' }
  | { name: 'doctor'; json: boolean }
  | { name: 'status'; json: boolean }
  | { name: 'images-ls'; json: boolean }
  | { name: 'images-prepare'; bundle?: string; architectures?: Architecture[] }
  | { name: 'images-import'; file: string }
  | { name: 'images-export'; file: string }
  | { name: 'down'; images: boolean }
  | { name: 'web'; port?: number }
  | { name: 'up'; deployment: DeploymentName; port?: number; perimeter?: true }
  | { name: 'scale'; service: string; replicas: number; cpus?: number }
  | { name: 'upgrade'; service: string; version: number }
  | {
      name: 'load';
      rate: number;
      duration: number;
      mix?: Partial<Record<LoadScenario, number>>;
      /** A capacity search (`--find-capacity`), with its bounds. */
      capacity?: { p95Ms?: number; maxErrorRate?: number };
      json: boolean;
    };

export class UsageError extends Error {}

export const USAGE = `Usage: microlab <command> [options]

Commands:
  doctor [--json]                 check the Docker engine, images, firewall support and subnets
  status [--json]                 the engine, the images and what MicroLab is running
  images ls [--json]              the images the labs use, with sizes
  images prepare [--bundle FILE] [--arch amd64,arm64]
                                  provide every image the labs need (present, bundle, build, or offline);
                                  --arch also builds another architecture, emulated, for a bundle
  images import FILE              load the engine's architecture from a classroom bundle
  images export FILE              write every image the labs need, every architecture prepared, to one file
  down [--images]                 remove everything MicroLab created (with --images, its images too)
  web [--port N]                  serve the app to a browser on 127.0.0.1
  up monolith|microservices [--port N] [--perimeter]
                                  start the shop (replacing the other deployment), wait until healthy
                                  and print the storefront's address (127.0.0.1, port 8480 by default)
                                  --perimeter: a network per segment and one firewall between them
  scale SERVICE N [--cpus C]      run N replicas of a microservice (they share its name);
                                  --cpus: every replica limited to C cores (0.25: a quarter of one)
  upgrade SERVICE --version V     rolling replacement of a service (the monolith restarts); a new
                                  replica that fails within 8 s of being healthy halts the roll and
                                  the old version comes back (exit 1). Versions 3 and 4 of catalog
                                  are broken on purpose (3: checkout fails; 4: the process hangs)
  load --rate R --duration D [--mix browse=10,cart=3,checkout=1] [--json]
                                  load the storefront (R scenarios/s for D: 30, 30s or 2m);
                                  scenarios: browse, cart, checkout, account, search, signup
  load --find-capacity [--rate R] [--duration D] [--mix search=1] [--p95 MS] [--max-errors PCT]
                                  raise the offered rate from R (default 5/s) step by step until a
                                  step's p95 passes MS (default 1000) or its failed requests PCT
                                  (default 1); prints each step and the knee (at most D, default 60s)
${FIREWALL_USAGE}
${TERMINAL_USAGE}
${LAB_USAGE}
${EXPORT_USAGE}
  help, --version

Environment: DOCKER_HOST picks the engine; MICROLAB_PROJECT scopes what MicroLab creates;
MICROLAB_SUBNET_POOL sets the lab networks' range; MICROLAB_STUDENT (and MICROLAB_STUDENT_ID)
names the student, over the name set with \`student set\`.`;

function parse<const O extends OptionsConfig>(args: string[], options: O, positionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional.*$/, ''));
  }
  if (parsed.positionals.length > positionals) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals])}`);
  }
  return parsed;
}

const json = { json: { type: 'boolean' as const } };

export function parseCommand(argv: string[]): Command {
  const [first, ...rest] = argv;
  switch (first) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return { name: 'help', topic: rest[0] };
    case '--version':
    case 'version':
      return { name: 'version' };
    case 'doctor':
    case 'status':
      return { name: first, json: Boolean(parse(rest, json, 0).values.json) };
    case 'down':
      return { name: 'down', images: Boolean(parse(rest, { images: { type: 'boolean' } }, 0).values.images) };
    case 'web': {
      const { values } = parse(rest, { port: { type: 'string' } }, 0);
      if (values.port === undefined) return { name: 'web' };
      const port = Number(values.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new UsageError(`--port must be a number from 1 to 65535, not ${JSON.stringify(values.port)}`);
      }
      return { name: 'web', port };
    }
    case 'policy':
    case 'flows':
    case 'counters':
    case 'probe':
    case 'blast-radius':
      return parseFirewallCommand(first, rest, (message) => {
        throw new UsageError(message);
      });
    case 'images':
      return parseImages(rest);
    case 'shell':
    case 'exec':
      return parseTerminalCommand(first, rest, (message) => {
        throw new UsageError(message);
      });
    case 'lab':
    case 'class':
    case 'student':
      return parseLabCommand(first, rest, (message) => {
        throw new UsageError(message);
      });
    case 'export':
      return parseExportCommand(rest, (message) => {
        throw new UsageError(message);
      });
    case 'up': {
      const { values, positionals } = parse(
        rest,
        { port: { type: 'string' }, perimeter: { type: 'boolean' } },
        1,
      );
      const deployment = positionals[0];
      if (deployment !== 'monolith' && deployment !== 'microservices')
        throw new UsageError('up needs a deployment: monolith or microservices');
      return {
        name: 'up',
        deployment,
        ...(values.port === undefined ? {} : { port: integer('--port', values.port, 0, 65535) }),
        ...(values.perimeter ? { perimeter: true as const } : {}),
      };
    }
    case 'scale': {
      const { values, positionals } = parse(rest, { cpus: { type: 'string' } }, 2);
      const [service, count] = positionals;
      if (!service || count === undefined)
        throw new UsageError('scale needs a SERVICE and a number: scale catalog 3');
      const command: Command = {
        name: 'scale',
        service,
        replicas: integer('the number of replicas', count, 1, 10),
      };
      if (values.cpus === undefined) return command;
      const cpus = Number(values.cpus);
      if (!(cpus >= 0.05 && cpus <= 4))
        throw new UsageError(
          `--cpus must be a number from 0.05 to 4 (cores), not ${JSON.stringify(values.cpus)}`,
        );
      return { ...command, cpus };
    }
    case 'upgrade': {
      const { values, positionals } = parse(rest, { version: { type: 'string' } }, 1);
      if (!positionals[0]) throw new UsageError('upgrade needs a SERVICE: upgrade catalog --version 2');
      if (values.version === undefined) throw new UsageError('upgrade needs --version V');
      return {
        name: 'upgrade',
        service: positionals[0],
        version: integer('--version', values.version, 1, 4),
      };
    }
    case 'load':
      return parseLoad(rest);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(first)}`);
  }
}

function parseImages([sub, ...rest]: string[]): Command {
  switch (sub) {
    case 'ls':
    case 'list':
      return { name: 'images-ls', json: Boolean(parse(rest, json, 0).values.json) };
    case 'prepare': {
      const { bundle, arch } = parse(
        rest,
        { bundle: { type: 'string' }, arch: { type: 'string' } },
        0,
      ).values;
      let architectures: Architecture[] | undefined;
      try {
        architectures = arch === undefined ? undefined : parseArchitectures(String(arch));
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      return {
        name: 'images-prepare',
        ...(bundle === undefined ? {} : { bundle: String(bundle) }),
        ...(architectures ? { architectures } : {}),
      };
    }
    case 'import':
    case 'export': {
      const file = parse(rest, {}, 1).positionals[0];
      if (!file) throw new UsageError(`images ${sub} needs a FILE`);
      return { name: sub === 'import' ? 'images-import' : 'images-export', file };
    }
    default:
      throw new UsageError(
        sub
          ? `unknown images command ${JSON.stringify(sub)}`
          : 'images needs a command: ls, prepare, import or export',
      );
  }
}

function integer(what: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max)
    throw new UsageError(`${what} must be a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`);
  return n;
}

/** "30", "30s", "2m" -> seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m)?$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * (match[2] === 'm' ? 60 : 1) : NaN;
  if (!(seconds >= 1 && seconds <= 3600))
    throw new UsageError(`--duration must be from 1s to 60m (30, 30s or 2m), not ${JSON.stringify(text)}`);
  return seconds;
}

/** "browse=10,cart=3,checkout=1" -> weights per scenario. */
export function parseMix(text: string): Partial<Record<LoadScenario, number>> {
  const mix: Partial<Record<LoadScenario, number>> = {};
  for (const part of text.split(',').filter((p) => p.trim())) {
    const [name = '', weight = ''] = part.trim().split('=');
    if (!(LOAD_SCENARIOS as readonly string[]).includes(name))
      throw new UsageError(
        `--mix: unknown scenario ${JSON.stringify(name)} (use ${LOAD_SCENARIOS.join(', ')})`,
      );
    mix[name as LoadScenario] = integer(`--mix weight of ${name}`, weight, 0, 1000);
  }
  if (!Object.values(mix).some((w) => w > 0))
    throw new UsageError('--mix needs a scenario with a weight above 0');
  return mix;
}

function parseLoad(args: string[]): Command {
  const { values } = parse(
    args,
    {
      rate: { type: 'string' },
      duration: { type: 'string' },
      mix: { type: 'string' },
      'find-capacity': { type: 'boolean' },
      p95: { type: 'string' },
      'max-errors': { type: 'string' },
      ...json,
    },
    0,
  );
  const find = Boolean(values['find-capacity']);
  if (!find && (values.p95 !== undefined || values['max-errors'] !== undefined))
    throw new UsageError('--p95 and --max-errors bound a capacity search: add --find-capacity');
  if (find) {
    values.rate ??= '5';
    values.duration ??= '60';
  }
  if (values.rate === undefined || values.duration === undefined)
    throw new UsageError('load needs --rate R and --duration D (or --find-capacity)');
  const rate = Number(values.rate);
  if (!(rate > 0 && rate <= 1000))
    throw new UsageError(
      `--rate must be a number above 0 and at most 1000, not ${JSON.stringify(values.rate)}`,
    );
  const command: Command = {
    name: 'load',
    rate,
    duration: parseDuration(String(values.duration)),
    json: Boolean(values.json),
    ...(find
      ? {
          capacity: {
            ...(values.p95 !== undefined ? { p95Ms: positive('--p95', String(values.p95), 60_000) } : {}),
            ...(values['max-errors'] !== undefined
              ? { maxErrorRate: positive('--max-errors', String(values['max-errors']), 100, true) / 100 }
              : {}),
          },
        }
      : {}),
  };
  return values.mix === undefined ? command : { ...command, mix: parseMix(String(values.mix)) };
}

/** A number above 0 (or from 0, with `zero`) and at most `max`. */
function positive(what: string, text: string, max: number, zero = false): number {
  const n = Number(text);
  if (!(Number.isFinite(n) && (zero ? n >= 0 : n > 0) && n <= max))
    throw new UsageError(
      `${what} must be a number ${zero ? 'from 0' : 'above 0'} to ${max}, not ${JSON.stringify(text)}`,
    );
  return n;
}
