/**
 * Where is the Docker engine? The same places the docker CLI and the desktop engines use,
 * in this order: DOCKER_HOST, the chosen Docker context (DOCKER_CONTEXT, else the current
 * context), then each platform's well-known sockets (Docker Engine, Docker Desktop, Colima,
 * Podman, rootless Docker). As with the docker CLI, an engine asked for (DOCKER_HOST or a
 * context) is the only one tried: a broken one is an error, never a silent fallback.
 *
 * Pure: the environment and the file system are passed in, so every platform can be tested
 * from any platform.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { EngineEndpoint } from './types';
import { ApiError } from '../errors';

export interface DiscoveryInput {
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  home: string;
  /** Reads a small text file; undefined when it does not exist or cannot be read. */
  readFile(file: string): string | undefined;
}

export interface Candidate extends EngineEndpoint {
  /** When true, this candidate was asked for explicitly and nothing else is tried. */
  explicit?: boolean;
  /** The Docker context it comes from, and how that context was chosen. */
  context?: { name: string; how: ContextChoice };
}

/** How a Docker context was chosen: the DOCKER_CONTEXT variable, or `docker context use` (config.json). */
export type ContextChoice = 'DOCKER_CONTEXT' | 'current context';

/**
 * A Docker context that was chosen but cannot be used (it does not exist, or has no Docker
 * endpoint). The docker CLI refuses to fall back to another engine in that case, and so do we:
 * the `engine-context` error names the context, says how it was chosen and how to fix it.
 */
export class ContextError extends ApiError {
  constructor(name: string, how: ContextChoice, problem: string) {
    super(
      'engine-context',
      `Docker context "${name}" (chosen by ${how === 'DOCKER_CONTEXT' ? 'DOCKER_CONTEXT' : 'the current context in the docker config.json'}): ${problem}`,
      how === 'DOCKER_CONTEXT'
        ? `\`docker context ls\` lists the contexts there are: set DOCKER_CONTEXT to one of them, or unset it to use the current one.`
        : `\`docker context ls\` lists the contexts there are: choose one with \`docker context use NAME\` (\`docker context use default\` for the local engine).`,
    );
    this.name = 'ContextError';
  }
}

function dockerConfigDir(input: DiscoveryInput, join: typeof path.join): string {
  return input.env.DOCKER_CONFIG ?? join(input.home, '.docker');
}

/**
 * The endpoint of the chosen Docker context (DOCKER_CONTEXT, else the config's currentContext),
 * or undefined when none other than "default" is chosen. Like the docker CLI, a chosen context
 * is the only engine tried.
 *
 * Throws ContextError (code engine-context) when the chosen context does not exist or has no
 * Docker endpoint.
 */
export function contextEndpoint(input: DiscoveryInput, join = path.join): Candidate | undefined {
  let name = input.env.DOCKER_CONTEXT;
  let how: ContextChoice = 'DOCKER_CONTEXT';
  if (!name) {
    const config = input.readFile(join(dockerConfigDir(input, join), 'config.json'));
    if (config) {
      try {
        name = (JSON.parse(config) as { currentContext?: string }).currentContext;
        how = 'current context';
      } catch {
        name = undefined;
      }
    }
  }
  if (!name || name === 'default') return undefined;
  const metaFile = join(
    dockerConfigDir(input, join),
    'contexts',
    'meta',
    createHash('sha256').update(name).digest('hex'),
    'meta.json',
  );
  const meta = input.readFile(metaFile);
  if (meta === undefined) throw new ContextError(name, how, `context not found (no ${metaFile})`);
  let host: string | undefined;
  try {
    host = (JSON.parse(meta) as { Endpoints?: { docker?: { Host?: string } } }).Endpoints?.docker?.Host;
  } catch {
    throw new ContextError(name, how, `its description ${metaFile} is not JSON`);
  }
  if (!host) throw new ContextError(name, how, 'it has no Docker endpoint');
  return {
    address: host,
    source: `docker context "${name}" (${how})`,
    explicit: true,
    context: { name, how },
  };
}

/**
 * Every place to try, most specific first, without duplicates: DOCKER_HOST alone, else the
 * chosen Docker context alone, else the platform's usual sockets. Throws ContextError for a
 * chosen context that cannot be used.
 */
export function candidateEndpoints(input: DiscoveryInput): Candidate[] {
  const join = input.platform === 'win32' ? path.win32.join : path.posix.join;
  const { env, home } = input;
  if (env.DOCKER_HOST) return [{ address: env.DOCKER_HOST, source: 'DOCKER_HOST', explicit: true }];

  const context = contextEndpoint(input, join);
  if (context) return [context];

  const found: Candidate[] = [];
  const unix = (file: string, source: string) => found.push({ address: `unix://${file}`, source });
  if (input.platform === 'win32') {
    found.push({ address: 'npipe:////./pipe/docker_engine', source: 'Docker Desktop (named pipe)' });
    found.push({ address: 'npipe:////./pipe/podman-machine-default', source: 'Podman machine (named pipe)' });
  } else if (input.platform === 'darwin') {
    unix('/var/run/docker.sock', 'default socket');
    unix(join(home, '.docker/run/docker.sock'), 'Docker Desktop');
    unix(join(home, '.colima/default/docker.sock'), 'Colima');
    unix(join(home, '.colima/docker.sock'), 'Colima');
    unix(join(home, '.local/share/containers/podman/machine/podman.sock'), 'Podman machine');
    unix(join(home, '.local/share/containers/podman/machine/qemu/podman.sock'), 'Podman machine');
    unix(join(home, '.orbstack/run/docker.sock'), 'OrbStack');
  } else {
    unix('/var/run/docker.sock', 'default socket');
    if (env.XDG_RUNTIME_DIR) unix(join(env.XDG_RUNTIME_DIR, 'docker.sock'), 'rootless Docker');
    unix(join(home, '.docker/desktop/docker.sock'), 'Docker Desktop');
    unix(join(home, '.colima/default/docker.sock'), 'Colima');
    if (env.XDG_RUNTIME_DIR) unix(join(env.XDG_RUNTIME_DIR, 'podman/podman.sock'), 'Podman (rootless)');
    unix('/run/podman/podman.sock', 'Podman');
  }
  const seen = new Set<string>();
  return found.filter((c) => !seen.has(c.address) && seen.add(c.address));
}

/** dockerode's connection options for an endpoint address. */
export type DockerodeTarget =
  | { socketPath: string }
  | { protocol: 'http' | 'https'; host: string; port: number }
  | { protocol: 'ssh'; host: string; port: number; username?: string };

export function parseAddress(address: string): DockerodeTarget {
  if (address.startsWith('unix://')) return { socketPath: address.slice('unix://'.length) };
  if (address.startsWith('npipe://'))
    return { socketPath: address.slice('npipe://'.length).replace(/\//g, '\\') };
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new Error(`cannot read the engine address ${JSON.stringify(address)}`);
  }
  if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:') {
    const tls = url.protocol === 'https:';
    return {
      protocol: tls ? 'https' : 'http',
      host: url.hostname,
      port: Number(url.port || (tls ? 2376 : 2375)),
    };
  }
  if (url.protocol === 'ssh:') {
    return {
      protocol: 'ssh',
      host: url.hostname,
      port: Number(url.port || 22),
      username: url.username || undefined,
    };
  }
  throw new Error(
    `unsupported engine address ${JSON.stringify(address)}: use unix://, npipe://, tcp:// or ssh://`,
  );
}

/** A fix hint for an engine that cannot be reached, for the user's platform. */
export function unreachableHint(platform: NodeJS.Platform, code: string | undefined): string {
  if (code === 'EACCES') {
    return platform === 'linux'
      ? 'Permission denied on the Docker socket: add yourself to the docker group (sudo usermod -aG docker $USER, then log in again), or use rootless Docker.'
      : 'Permission denied on the Docker socket: check that your user may use the engine.';
  }
  switch (platform) {
    case 'darwin':
      return 'Start Docker Desktop, or run `colima start`, or `podman machine start`; then try again.';
    case 'win32':
      return 'Start Docker Desktop (or `podman machine start`) and wait until it says the engine is running.';
    default:
      return 'Start the Docker engine (sudo systemctl start docker, or start dockerd), or set DOCKER_HOST to where it listens.';
  }
}
