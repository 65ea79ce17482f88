/**
 * The API in process, for the CLI, tests and benchmarks: the same dispatcher every transport
 * uses (so input is validated the same way), and a way to wait for the task a method starts.
 */
import type { EventName, Events, MethodInput, MethodName, MethodOutput, TaskInfo } from './contract';
import { createConnection } from './connection';
import type { Handlers } from './dispatch';
import { dispatch } from './dispatch';
import { ApiError, fromErrorShape } from '../errors';
import type { TaskManager } from '../tasks';

export interface LocalApi {
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>>;
  /** Calls a method that starts a task and waits for it; throws the task's error unless it succeeded. */
  run<M extends MethodName>(method: M, input: MethodInput<M>): Promise<TaskInfo>;
  /** Events sent to this client only (a terminal session's output). Returns the disposer. */
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
  /** Lets go of what this client holds (its terminal sessions end). */
  close(): void;
}

export function localApi(services: { handlers: Handlers; tasks: TaskManager }): LocalApi {
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  const { connection, close } = createConnection((event, payload) => {
    for (const listener of listeners.get(event) ?? []) (listener as (p: typeof payload) => void)(payload);
  }, 'local');
  const on = <E extends EventName>(event: E, listener: (payload: Events[E]) => void) => {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => void set.delete(listener as (payload: never) => void);
  };
  const call = async <M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> => {
    const reply = await dispatch(services.handlers, method, input, connection);
    if (!reply.ok) throw fromErrorShape(reply.error);
    return reply.result as MethodOutput<M>;
  };
  const run = async <M extends MethodName>(method: M, input: MethodInput<M>): Promise<TaskInfo> => {
    const final = await services.tasks.wait(((await call(method, input)) as TaskInfo).id);
    if (final.state === 'succeeded') return final;
    const error = final.error ?? { code: final.state, message: final.state };
    throw new ApiError(error.code, `${method} ${final.state}: ${error.message}`, error.hint);
  };
  return { call, run, on, close };
}
