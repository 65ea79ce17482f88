import { useCallback, useEffect, useRef, useState } from 'react';
import type { Api, TaskInfo } from '../../../electron/api/contract';
import type { UiError } from '../errors';
import { toUiError } from '../errors';

export interface FollowedTask {
  /** The task on screen: running, or the last one that ended. */
  task?: TaskInfo;
  /** Starting or canceling failed (the task's own failure is in `task.error`). */
  error?: UiError;
  starting: boolean;
  canceling: boolean;
  start: (run: () => Promise<TaskInfo>) => void;
  cancel: () => void;
}

/**
 * Follows the tasks of one kind through `tasks:update`: the one this screen starts, or one
 * already running when it opens. `onEnd` runs once when a followed task ends.
 */
export function useTask(api: Api, kind: string, onEnd: (task: TaskInfo) => void): FollowedTask {
  const [task, setTask] = useState<TaskInfo>();
  const [error, setError] = useState<UiError>();
  const [starting, setStarting] = useState(false);
  const [cancelingId, setCancelingId] = useState<string>();

  useEffect(() => {
    let live = true;
    const dispose = api.on('tasks:update', (update) => {
      if (update.kind !== kind) return;
      setTask((prev) => {
        if (!prev || prev.id === update.id) return update;
        // A new run replaces the one that ended; a running one is never hidden.
        return prev.state !== 'running' && update.state === 'running' ? update : prev;
      });
    });
    api.call('tasks:list', {}).then(
      (tasks) => {
        const running = tasks.filter((t) => t.kind === kind && t.state === 'running').at(-1);
        if (live && running) setTask((prev) => prev ?? running);
      },
      () => {
        /* nothing to adopt: the card still starts and follows its own tasks */
      },
    );
    return () => {
      live = false;
      dispose();
    };
  }, [api, kind]);

  const onEndRef = useRef(onEnd);
  useEffect(() => {
    onEndRef.current = onEnd;
  }, [onEnd]);
  const ended = useRef(new Set<string>());
  useEffect(() => {
    if (task && task.state !== 'running' && !ended.current.has(task.id)) {
      ended.current.add(task.id);
      onEndRef.current(task);
    }
  }, [task]);

  const start = useCallback((run: () => Promise<TaskInfo>) => {
    setError(undefined);
    setStarting(true);
    run().then(
      (info) => {
        // Updates may overtake the reply: what an update said about this task is newer.
        setTask((prev) => (prev?.id === info.id ? prev : info));
        setStarting(false);
      },
      (err: unknown) => {
        setError(toUiError(err));
        setStarting(false);
      },
    );
  }, []);

  const taskId = task?.id;
  const cancel = useCallback(() => {
    if (!taskId) return;
    setError(undefined);
    setCancelingId(taskId);
    api.call('tasks:cancel', { id: taskId }).then(
      () => {
        /* the canceled state arrives as a tasks:update */
      },
      (err: unknown) => {
        setCancelingId(undefined);
        setError(toUiError(err));
      },
    );
  }, [api, taskId]);

  return {
    task,
    error,
    starting,
    canceling: task !== undefined && task.state === 'running' && cancelingId === task.id,
    start,
    cancel,
  };
}
