/**
 * The floor's errors, shared by every layer: what a service throws for the user, and the one
 * plain shape it crosses a transport in.
 */

/** An error as it crosses a transport: a stable code, the message, and an optional hint. */
export interface ApiErrorShape {
  code: string;
  message: string;
  hint?: string;
}

/**
 * An error meant for the user: a stable code, a message that says what and where, and, when
 * there is one, a hint on what to do. Anything else that escapes a service is reported as an
 * internal error with its message only (never a stack).
 */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function toErrorShape(err: unknown): ApiErrorShape {
  if (err instanceof ApiError) {
    return err.hint
      ? { code: err.code, message: err.message, hint: err.hint }
      : { code: err.code, message: err.message };
  }
  if (err instanceof Error && err.name === 'AbortError') return { code: 'canceled', message: 'canceled' };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message };
}

/** Rebuilds an error on the calling side of a transport, so the UI shows the real message. */
export function fromErrorShape(shape: ApiErrorShape): ApiError {
  return new ApiError(shape.code, shape.message, shape.hint);
}
