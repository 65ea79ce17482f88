/**
 * The CLI's grammar, as a pure function from argv to a command (or a usage error), so it can
 * be tested without running anything.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

export type Command =
  | { name: 'help'; topic?: string }
  | { name: 'version' }
  | { name: 'doctor'; json: boolean }
  | { name: 'status'; json: boolean }
  | { name: 'images-ls'; json: boolean }
  | { name: 'images-prepare'; bundle?: string }
  | { name: 'images-import'; file: string }
  | { name: 'images-export'; file: string }
  | { name: 'down'; images: boolean }
  | { name: 'web'; port?: number };

export class UsageError extends Error {}

export const USAGE = `Usage: microlab <command> [options]

Commands:
  doctor [--json]                 check the Docker engine, images, firewall support and subnets
  status [--json]                 the engine, the images and what MicroLab is running
  images ls [--json]              the images the labs use, with sizes
  images prepare [--bundle FILE]  provide every image the labs need (present, bundle, build, or offline)
  images import FILE              load a classroom bundle
  images export FILE              write every image the labs need to one file, for a classroom
  down [--images]                 remove everything MicroLab created (with --images, its images too)
  web [--port N]                  serve the app to a browser on 127.0.0.1
  help, --version

Environment: DOCKER_HOST picks the engine; MICROLAB_PROJECT scopes what MicroLab creates;
MICROLAB_SUBNET_POOL sets the lab networks' range.`;

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
    case 'images':
      return parseImages(rest);
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
      const bundle = parse(rest, { bundle: { type: 'string' } }, 0).values.bundle;
      return bundle === undefined
        ? { name: 'images-prepare' }
        : { name: 'images-prepare', bundle: String(bundle) };
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
