/**
 * What the lab runner holds: the API, as the UI holds it (every service call goes through the
 * one dispatcher, validated like any other caller's), plus a way to wait for a task it started.
 * The runner reaches the engine, the firewall and the probes only through these calls.
 */
import type { EventName, Events, MethodInput, MethodName, MethodOutput, TaskInfo } from '../api/contract';
import { ApiError } from '../errors';

export interface LabClient {
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>>;
  /** Events sent to this client (a terminal session's output and exit). Returns the disposer. */
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
  /** Resolves with the task's final state. */
  wait(taskId: string): Promise<TaskInfo>;
}

/**
 * Runs one command in a workload's first replica (or, `as: 'firewall'`, in its firewall: the
 * pod's holder, or the router behind the perimeter) through a terminal session without a TTY
 * (what `microlab exec [--firewall]` does) and collects its output. Throws when the session
 * ends without an exit code, or after `timeoutMs`.
 */
export async function execIn(
  client: LabClient,
  workload: string,
  command: string[],
  timeoutMs = 60_000,
  as: 'workload' | 'firewall' = 'workload',
): Promise<{ exitCode: number; output: string }> {
  let id: string | undefined;
  const early: Events['terminal:output'][] = [];
  const chunks: Buffer[] = [];
  let resolveExit: (end: Events['terminal:exit']) => void = () => {};
  const exited = new Promise<Events['terminal:exit']>((resolve) => (resolveExit = resolve));
  const earlyExit: Events['terminal:exit'][] = [];
  const offOutput = client.on('terminal:output', (o) => {
    if (id === undefined) early.push(o);
    else if (o.id === id) chunks.push(Buffer.from(o.data, 'base64'));
  });
  const offExit = client.on('terminal:exit', (end) => {
    if (id === undefined) earlyExit.push(end);
    else if (end.id === id) resolveExit(end);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const session = await client.call('terminal:open', { target: { workload }, as, command, tty: false });
    id = session.id;
    for (const o of early) if (o.id === id) chunks.push(Buffer.from(o.data, 'base64'));
    const ended = earlyExit.find((e) => e.id === id);
    if (ended) resolveExit(ended);
    const end = await Promise.race([
      exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          void client.call('terminal:close', { id: session.id }).catch(() => undefined);
          reject(
            new ApiError(
              'exec-timeout',
              `\`${command.join(' ')}\` in ${workload} did not end within ${timeoutMs / 1000} s`,
            ),
          );
        }, timeoutMs);
      }),
    ]);
    const output = Buffer.concat(chunks).toString('utf8');
    if (end.exitCode === undefined)
      throw new ApiError('exec-failed', `\`${command.join(' ')}\` in ${workload} ended: ${end.reason}`);
    return { exitCode: end.exitCode, output };
  } finally {
    clearTimeout(timer);
    offOutput();
    offExit();
  }
}

/** Calls a method that starts a task and waits for it; throws the task's error unless it succeeded. */
export async function runTask<M extends MethodName>(
  client: LabClient,
  method: M,
  input: MethodInput<M>,
): Promise<TaskInfo> {
  const started = (await client.call(method, input)) as TaskInfo;
  const final = await client.wait(started.id);
  if (final.state === 'succeeded') return final;
  const error = final.error ?? { code: final.state, message: final.state };
  throw new ApiError(error.code, `${method} ${final.state}: ${error.message}`, error.hint);
}
