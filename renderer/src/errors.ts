/**
 * What the UI shows for a failure: the message and, when there is one, the hint. Errors from
 * the API are `ApiError`s (code, message, hint); anything else shows its message only.
 */
import type { ApiErrorShape } from '../../electron/api/contract';

export type UiError = ApiErrorShape;

export function toUiError(err: unknown): UiError {
  if (typeof err === 'object' && err !== null && 'message' in err) {
    const { code, message, hint } = err as { code?: unknown; message: unknown; hint?: unknown };
    return {
      code: typeof code === 'string' ? code : 'error',
      message: String(message),
      ...(typeof hint === 'string' && hint ? { hint } : {}),
    };
  }
  return { code: 'error', message: String(err) };
}
