import type { z } from 'zod';
import { isMethodName, methods } from './contract';
import type { Envelope, MethodName, MethodOutput, ParsedInput } from './contract';
import { ApiError, toErrorShape } from '../errors';
import type { Connection } from './connection';
import { DETACHED } from './connection';

/**
 * What the services implement: one handler per method, given already-validated input and the
 * connection that called (most handlers ignore it; terminal sessions belong to it).
 */
export type Handlers = {
  [M in MethodName]: (input: ParsedInput<M>, connection: Connection) => Promise<MethodOutput<M>>;
};

/** Formats zod issues as "field: problem; field: problem". */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

/** Checks that the method exists and its input is valid. Throws an ApiError otherwise. */
export function validateCall<M extends MethodName>(
  method: unknown,
  input: unknown,
): { method: M; input: ParsedInput<M> } {
  if (!isMethodName(method)) throw new ApiError('unknown-method', `unknown method ${JSON.stringify(method)}`);
  const parsed = methods[method].input.safeParse(input ?? {});
  if (!parsed.success) throw new ApiError('invalid-input', `${method}: ${describeIssues(parsed.error)}`);
  return { method: method as M, input: parsed.data as ParsedInput<M> };
}

/**
 * The single entry point every transport uses: validate, call, and wrap the outcome in the
 * envelope. It never throws.
 */
export async function dispatch(
  handlers: Handlers,
  method: unknown,
  input: unknown,
  connection: Connection = DETACHED,
): Promise<Envelope<unknown>> {
  try {
    const call = validateCall(method, input);
    const handler = handlers[call.method] as (input: unknown, connection: Connection) => Promise<unknown>;
    return { ok: true, result: await handler(call.input, connection) };
  } catch (err) {
    return { ok: false, error: toErrorShape(err) };
  }
}
