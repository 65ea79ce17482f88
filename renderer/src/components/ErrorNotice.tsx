import type { UiError } from '../errors';
import { RichText } from './RichText';

/** A failure as the user should see it: what went wrong, and what to do about it. */
export function ErrorNotice({ title, error }: { title: string; error: UiError }) {
  return (
    <div className="notice notice-error" role="alert">
      <p className="notice-title">{title}</p>
      <p className="notice-message">
        <RichText text={error.message} />
      </p>
      {error.hint && (
        <p className="notice-hint">
          <strong>What to do: </strong>
          <RichText text={error.hint} />
        </p>
      )}
    </div>
  );
}
