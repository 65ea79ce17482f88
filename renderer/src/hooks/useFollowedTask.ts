import { useCallback, useEffect, useRef, useState } from 'react';
import type { Api, TaskInfo } from '../../../electron/api/contract';
import type { UiError } from '../errors';
import { toUiError } from '../errors';

export interface OneTask {
  /** The task started last: running, or how it ended. */
  task?: TaskInfo;
  /** Starting it failed (the task's own failure is in `task.error`). */
  error?: UiError;
  /** Starting, or running. */
  busy: boolean;
  /** What started it (a button's id), while it is on screen. */
  label?: string;
  start: (label: string, run: () => Promise<TaskInfo>) => void;
  clear: () => void;
}

/**
 * Follows the one task a screen starts, by its id, through `tasks:update`; `onEnd` runs once
 * when it ends (succeeded, failed or canceled).
 */
export function useFollowedTask(api: Api, onEnd: (task: TaskInfo) => void): OneTask {
  const [state, setState] = useState<{ task?: TaskInfo; error?: UiError; starting: boolean; label?: string }>(
    { starting: false },
  );
  const onEndRef = useRef(onEnd);
  useEffect(() => {
    onEndRef.current = onEnd;
  }, [onEnd]);
  const ended = useRef(new Set<string>());
  const followed = useRef<string>(undefined);
  // Updates may arrive before the reply that names the task: the last few are kept.
  const recent = useRef(new Map<string, TaskInfo>());

  useEffect(
    () =>
      api.on('tasks:update', (update) => {
        recent.current.set(update.id, update);
        if (recent.current.size > 50) recent.current.delete(recent.current.keys().next().value!);
        if (update.id === followed.current) setState((s) => ({ ...s, task: update }));
      }),
    [api],
  );

  const task = state.task;
  useEffect(() => {
    if (task && task.state !== 'running' && !ended.current.has(task.id)) {
      ended.current.add(task.id);
      onEndRef.current(task);
    }
  }, [task]);

  const start = useCallback((label: string, run: () => Promise<TaskInfo>) => {
    followed.current = undefined;
    setState({ starting: true, label });
    run().then(
      (info) => {
        followed.current = info.id;
        // An update may overtake the reply: what it said is newer.
        setState((s) => ({ ...s, starting: false, task: recent.current.get(info.id) ?? info }));
      },
      (err: unknown) => setState({ starting: false, label, error: toUiError(err) }),
    );
  }, []);
  const clear = useCallback(() => {
    followed.current = undefined;
    setState({ starting: false });
  }, []);

  return {
    ...(state.task ? { task: state.task } : {}),
    ...(state.error ? { error: state.error } : {}),
    ...(state.label ? { label: state.label } : {}),
    busy: state.starting || state.task?.state === 'running',
    start,
    clear,
  };
}
