/**
 * The engine registry owns the dockerode client. It tries the discovered endpoints in order,
 * pings each, keeps the first that answers, and otherwise explains what it tried and why each
 * failed, with a fix hint for the platform.
 */
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import Docker from 'dockerode';
import type { EngineEndpoint } from './types';
import { ApiError } from '../errors';
import type { Candidate } from './discovery';
import { candidateEndpoints, parseAddress, unreachableHint } from './discovery';

export interface Engine {
  docker: Docker;
  endpoint: EngineEndpoint;
}

export interface Attempt {
  endpoint: EngineEndpoint;
  error: string;
  code?: string;
  /** The Docker context the endpoint came from, if it did. */
  context?: Candidate['context'];
}

const PING_TIMEOUT_MS = 3000;

function readSmallFile(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function createClient(address: string, timeout?: number): Docker {
  const target = parseAddress(address);
  return new Docker(timeout === undefined ? { ...target } : { ...target, timeout });
}

async function tryCandidate(candidate: Candidate): Promise<{ engine?: Engine; attempt?: Attempt }> {
  const endpoint: EngineEndpoint = { address: candidate.address, source: candidate.source };
  const found = await reach(candidate, endpoint);
  return found.attempt && candidate.context
    ? { attempt: { ...found.attempt, context: candidate.context } }
    : found;
}

async function reach(
  candidate: Candidate,
  endpoint: EngineEndpoint,
): Promise<{ engine?: Engine; attempt?: Attempt }> {
  let target;
  try {
    target = parseAddress(candidate.address);
  } catch (err) {
    return { attempt: { endpoint, error: (err as Error).message } };
  }
  if ('socketPath' in target && !target.socketPath.startsWith('\\\\')) {
    try {
      statSync(target.socketPath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return {
        attempt: { endpoint, code, error: code === 'ENOENT' ? 'no socket there' : (err as Error).message },
      };
    }
  }
  try {
    await createClient(candidate.address, PING_TIMEOUT_MS).ping();
    return { engine: { docker: createClient(candidate.address), endpoint } };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { statusCode?: number };
    const error =
      e.code === 'ECONNREFUSED'
        ? 'connection refused (the engine is not running)'
        : e.code === 'EACCES'
          ? 'permission denied'
          : e.statusCode
            ? `answered HTTP ${e.statusCode} to /_ping: not a Docker engine?`
            : e.message;
    return { attempt: { endpoint, code: e.code, error } };
  }
}

export class EngineRegistry {
  private current?: Promise<Engine>;

  constructor(
    private readonly env: Record<string, string | undefined> = process.env,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {}

  /** The connected engine; connects on first use and after `reset()`. */
  get(): Promise<Engine> {
    this.current ??= this.connect().catch((err: unknown) => {
      this.current = undefined;
      throw err;
    });
    return this.current;
  }

  reset(): void {
    this.current = undefined;
  }

  private async connect(): Promise<Engine> {
    const candidates = candidateEndpoints({
      env: this.env,
      platform: this.platform,
      home: this.env.HOME ?? this.env.USERPROFILE ?? os.homedir(),
      readFile: readSmallFile,
    });
    const attempts: Attempt[] = [];
    for (const candidate of candidates) {
      const { engine, attempt } = await tryCandidate(candidate);
      if (engine) return engine;
      if (attempt) attempts.push(attempt);
    }
    throw engineUnreachable(attempts, this.platform);
  }
}

/**
 * The `engine-unreachable` error: every endpoint tried and why each failed. When the one
 * endpoint tried was a Docker context's (a chosen context is the only one tried, as with the
 * docker CLI), the message and the hint name the context.
 */
export function engineUnreachable(attempts: Attempt[], platform: NodeJS.Platform): ApiError {
  const tried = attempts.map((a) => `${a.endpoint.address} (${a.endpoint.source}): ${a.error}`).join('; ');
  const code = attempts.find((a) => a.code === 'EACCES')?.code ?? attempts.find((a) => a.code)?.code;
  const context = attempts.length === 1 ? attempts[0]!.context : undefined;
  if (context) {
    const a = attempts[0]!;
    return new ApiError(
      'engine-unreachable',
      `Cannot connect to the Docker engine of context "${context.name}" (${context.how}) at ${a.endpoint.address}: ${a.error}.`,
      `Start the engine that context points at, or choose another: ${
        context.how === 'DOCKER_CONTEXT'
          ? 'set DOCKER_CONTEXT to one that `docker context ls` lists, or unset it'
          : '`docker context use default` for the local engine (`docker context ls` lists them all)'
      }.`,
    );
  }
  return new ApiError(
    'engine-unreachable',
    `Docker engine not reachable. Tried ${tried || 'nothing'}.`,
    unreachableHint(platform, code),
  );
}
