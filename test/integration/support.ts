/**
 * Shared by the integration tests: the real engine, the built CLI, and a task runner for
 * calling long operations directly.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import Docker from 'dockerode';
import { demuxBuffer } from '../../electron/engine/streams';
import { baseImageName } from '../../electron/engine/images';
import { labelsFor } from '../../electron/engine/labels';
import { EventBus } from '../../electron/api/events';
import { pollUntil, TimeoutError } from '../../electron/wait';
import type { TaskInfo } from '../../electron/api/contract';
import type { TaskContext } from '../../electron/tasks';
import { TaskManager } from '../../electron/tasks';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const cliPath = path.join(repoRoot, 'bin', 'microlab.js');

export const docker = new Docker();

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `microlab` CLI (npm test builds it first). */
export function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  if (!existsSync(path.join(repoRoot, 'dist', 'cli.js')))
    throw new Error('dist/cli.js is missing: run `npm run build` first');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs `work` as a real task; returns its final state and every progress message it published. */
export async function runTask(
  work: (ctx: TaskContext) => Promise<string>,
  onProgress?: (task: TaskInfo, cancel: () => void) => void,
): Promise<{ final: TaskInfo; messages: string[] }> {
  const events = new EventBus();
  const tasks = new TaskManager(events);
  const messages: string[] = [];
  let id = '';
  events.on('tasks:update', (task) => {
    if (task.state === 'running' && messages.at(-1) !== task.progress.message)
      messages.push(task.progress.message);
    onProgress?.(task, () => tasks.cancel(id));
  });
  id = tasks.start('test', 'test task', 1, work).id;
  return { final: await tasks.wait(id), messages };
}

export async function imageExists(name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch {
    return false;
  }
}

/** Requests a container served under `pathPrefix`, counted from its JSON-line logs. */
export async function requestsServed(container: string, pathPrefix: string): Promise<number> {
  const logs = demuxBuffer(
    (await docker
      .getContainer(container)
      .logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer,
  );
  return logs
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string; path?: string })
    .filter((entry) => entry.msg === 'request' && entry.path?.startsWith(pathPrefix)).length;
}

/**
 * The Docker engine reached through a TCP relay on 127.0.0.1 that a test can cut (dockerd itself
 * keeps running): `DOCKER_HOST=tcp://127.0.0.1:<port>`. `cut()` closes the listener and every
 * open connection; a new relay may listen on the same port again.
 */
export function openEngineRelay(port = 0): Promise<{ port: number; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const relay: Server = createServer((socket) => {
    const engine = connect('/var/run/docker.sock');
    sockets.add(socket).add(engine);
    socket.pipe(engine).pipe(socket);
    socket.on('error', () => engine.destroy());
    engine.on('error', () => socket.destroy());
    socket.on('close', () => engine.destroy());
    engine.on('close', () => socket.destroy());
  });
  const cut = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    return new Promise<void>((resolve) => relay.close(() => resolve()));
  };
  return new Promise((resolve) =>
    relay.listen(port, '127.0.0.1', () => resolve({ port: (relay.address() as { port: number }).port, cut })),
  );
}

/**
 * Polls `probe` every 100 ms until `ok` accepts its value (a probe that throws gives its
 * error as the value), and returns it; throws naming `what` and the last value after `limitMs`.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T>,
  ok: (v: T) => boolean,
  limitMs = 60_000,
): Promise<T> {
  let value: T | undefined;
  const accepted = async () => {
    value = await probe().catch((err: unknown) => err as T);
    return ok(value);
  };
  try {
    await pollUntil(accepted, { what, limitMs });
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
    throw new Error(`${what}: still ${value instanceof Error ? value.message : JSON.stringify(value)}`, {
      cause: err,
    });
  }
  return value as T;
}

/**
 * Whether a container on `project`'s lab network that is none of its workloads (labelled,
 * transient, no capabilities) connects to `address:port` within 2 s.
 */
export async function outsiderReaches(project: string, address: string, port: number): Promise<boolean> {
  const container = await docker.createContainer({
    Image: baseImageName(),
    Cmd: ['nc', '-z', '-w', '2', address, String(port)],
    Labels: labelsFor(project, 'outsider', { transient: true }),
    HostConfig: { NetworkMode: `${project}-lab`, CapDrop: ['ALL'] },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    return StatusCode === 0;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
