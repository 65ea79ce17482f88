import type { TaskInfo } from '../../../electron/api/contract';
import { formatBytes } from '../format';
import { ErrorNotice } from './ErrorNotice';
import { RichText } from './RichText';

/** A task while it runs (step, message, bytes, a progress bar, Cancel) and how it ended. */
export function TaskPanel({
  task,
  canceling,
  onCancel,
}: {
  task: TaskInfo;
  canceling: boolean;
  onCancel: () => void;
}) {
  if (task.state === 'failed') {
    return (
      <ErrorNotice
        title={`${task.title} failed`}
        error={task.error ?? { code: 'unknown', message: 'the task ended without saying why' }}
      />
    );
  }
  if (task.state === 'canceled') {
    return (
      <div className="notice notice-neutral" role="status">
        <p className="notice-title">{task.title}: canceled</p>
        <p className="notice-message">It stopped before it finished; run it again when you are ready.</p>
      </div>
    );
  }
  if (task.state === 'succeeded') {
    return (
      <div className="notice notice-success" role="status">
        <p className="notice-title">{task.title}: done</p>
        <p className="notice-message">
          <RichText text={task.result ?? 'finished'} />
        </p>
      </div>
    );
  }

  const { step, steps, message, bytes, totalBytes } = task.progress;
  const byBytes = totalBytes !== undefined && totalBytes > 0 && bytes !== undefined;
  return (
    <div className="task" role="status" aria-label={task.title}>
      <div className="task-head">
        <p className="task-title">
          {task.title}
          <span className="task-step">
            {' '}
            · step {Math.max(step, 1)}/{steps}
          </span>
        </p>
        <button type="button" onClick={onCancel} disabled={canceling}>
          {canceling ? 'Canceling…' : 'Cancel'}
        </button>
      </div>
      <progress
        max={byBytes ? totalBytes : steps}
        value={byBytes ? Math.min(bytes, totalBytes) : Math.max(0, step - 1)}
        aria-label={`${task.title} progress`}
      />
      <p className="task-message">
        {message}
        {bytes !== undefined && (
          <span className="task-bytes">
            {' '}
            · {formatBytes(bytes)}
            {totalBytes ? ` of ${formatBytes(totalBytes)}` : ''}
          </span>
        )}
      </p>
    </div>
  );
}
