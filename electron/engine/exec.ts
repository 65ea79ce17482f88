/**
 * Running one command in a running container (Docker exec) and collecting what it printed: the
 * firewall's tables and counters, the probes, the agent's state file, the perimeter router.
 */
import type Docker from 'dockerode';
import { withTimeout } from '../wait';
import { demux, demuxBuffer, lines } from './streams';

export interface ExecResult {
  /** The command's exit code; -1 when the engine did not report one. */
  exitCode: number;
  /** Its stdout and stderr together, as UTF-8 text, in the order they came. */
  output: string;
  /** Its stdout alone. */
  stdout: string;
  /** Its stderr alone. */
  stderr: string;
}

export interface ExecOptions {
  /** The longest the command may run, in ms (default 15 s). */
  timeoutMs?: number;
  /** Text written to the command's stdin, which is then closed. Without it, stdin is not attached. */
  input?: string;
  /** What the timeout error says was awaited (default "CMD in CONTAINER to finish"). */
  what?: string;
}

/**
 * Runs `cmd` (an argv, no shell unless it is `sh -c ...`) in `containerId` and resolves with
 * its exit code and output once it ended.
 *
 * Errors: Docker's own (404: no such container; 409: it is not running); TimeoutError
 * (wait.ts) when the command has not ended within `timeoutMs` (its stream is then closed).
 */
export async function execIn(
  docker: Docker,
  containerId: string,
  cmd: string[],
  { timeoutMs = 15_000, input, what }: ExecOptions = {},
): Promise<ExecResult> {
  const exec = await docker.getContainer(containerId).exec({
    Cmd: cmd,
    AttachStdin: input !== undefined,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = (await exec.start({
    hijack: true,
    stdin: input !== undefined,
  })) as NodeJS.ReadWriteStream & {
    destroy: () => void;
  };
  const chunks: Buffer[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('end', resolve);
  });
  if (input !== undefined) stream.end(input);
  await withTimeout(ended, {
    what: what ?? `${cmd[0]} in ${containerId.slice(0, 12)} to finish`,
    limitMs: timeoutMs,
    onTimeout: () => stream.destroy(),
  });
  const { ExitCode } = await exec.inspect();
  const all = Buffer.concat(chunks);
  return {
    exitCode: ExitCode ?? -1,
    output: demuxBuffer(all),
    stdout: demuxBuffer(all, 'stdout'),
    stderr: demuxBuffer(all, 'stderr'),
  };
}

export interface ExecLinesOptions {
  /** The longest the command may run, in ms (default 15 s): then the stream is closed and this throws. */
  timeoutMs?: number;
  /** What the timeout error says was awaited. */
  what?: string;
  /** Stops reading (the stream is closed) and resolves: the command itself runs on to its end in the container. */
  signal?: AbortSignal;
}

/**
 * Runs `cmd` in `containerId` and hands each whole line of its stdout and stderr to `onLine`
 * as it comes, not at the end (`execIn` collects instead). Resolves when the command's output
 * ended, or at once when `signal` aborts (the caller has what it needed; the command is not
 * killed: Docker has no call for that).
 *
 * Errors: Docker's own (404, 409, as execIn); TimeoutError after `timeoutMs`.
 */
export async function execLines(
  docker: Docker,
  containerId: string,
  cmd: string[],
  onLine: (line: string) => void,
  { timeoutMs = 15_000, what, signal }: ExecLinesOptions = {},
): Promise<void> {
  const exec = await docker.getContainer(containerId).exec({
    Cmd: cmd,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = (await exec.start({ hijack: true, stdin: false })) as NodeJS.ReadWriteStream & {
    destroy: () => void;
  };
  const ended = new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('end', resolve);
    stream.on('close', resolve);
    const stop = () => {
      stream.destroy();
      resolve();
    };
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop, { once: true });
  });
  demux(stream, lines(onLine));
  await withTimeout(ended, {
    what: what ?? `${cmd[0]} in ${containerId.slice(0, 12)} to finish`,
    limitMs: timeoutMs,
    onTimeout: () => stream.destroy(),
  });
}
