/**
 * What the lab runner holds: the API, as the UI holds it (every service call goes through the
 * one dispatcher, validated like any other caller's), plus a way to wait for a task it started.
 * The runner reaches the engine, the firewall and the probes only through these calls.
 */
import type { MethodInput, MethodName, MethodOutput, TaskInfo } from '../api/contract';
import { ApiError } from '../errors';

export interface LabClient {
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>>;
  /** Resolves with the task's final state. */
  wait(taskId: string): Promise<TaskInfo>;
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
