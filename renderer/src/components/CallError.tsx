import type { UiError } from '../errors';
import { ErrorNotice } from './ErrorNotice';

/** The code the services use when no Docker engine answers. */
export const ENGINE_UNREACHABLE = 'engine-unreachable';

/**
 * A failed call in a card. Without an engine every card fails the same way: the doctor card
 * explains it once, with the fix, and the others point there instead of repeating it.
 */
export function CallError({ title, error }: { title: string; error: UiError }) {
  if (error.code === ENGINE_UNREACHABLE) {
    return (
      <div className="notice notice-neutral" role="status">
        <p className="notice-title">Waiting for the Docker engine</p>
        <p className="notice-message">
          No engine answers; “Engine and machine” says what was tried and how to fix it. Then check again.
        </p>
      </div>
    );
  }
  return <ErrorNotice title={title} error={error} />;
}
