/**
 * The API in process, for the CLI, tests and benchmarks: the same dispatcher every transport
 * uses (so input is validated the same way), and a way to wait for the task a method starts.
 */
import type { MethodInput, MethodName, MethodOutput, TaskInfo } from './contract';
import type { Handlers } from './dispatch';
import { dispatch } from './dispatch';
import { ApiError, fromErrorShape } from './errors';
import type { TaskManager } from '../tasks';

export interface LocalApi {
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>>;
  /** Calls a method that starts a task and waits for it; throws the task's error unless it succeeded. */
  run<M extends MethodName>(method: M, input: MethodInput<M>): Promise<TaskInfo>;
}

export function localApi(services: { handlers: Handlers; tasks: TaskManager }): LocalApi {
  const call = async <M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> => {
    const reply = await dispatch(services.handlers, method, input);
    if (!reply.ok) throw fromErrorShape(reply.error);
    return reply.result as MethodOutput<M>;
  };
  const run = async <M extends MethodName>(method: M, input: MethodInput<M>): Promise<TaskInfo> => {
    const final = await services.tasks.wait(((await call(method, input)) as TaskInfo).id);
    if (final.state === 'succeeded') return final;
    const error = final.error ?? { code: final.state, message: final.state };
    throw new ApiError(error.code, `${method} ${final.state}: ${error.message}`, error.hint);
  };
  return { call, run };
}
