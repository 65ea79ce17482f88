/**
 * Removing a container when someone else may be removing it too. The firewall agent removes a
 * pod's holder as soon as its app is destroyed; `up`, `down` and a new holder of the same name
 * may ask for the same removal a moment later. Docker then answers 409 "removal of container
 * ... is already in progress" and returns before the container is gone, so its name and its
 * network endpoints are still taken. `removeContainer` returns only once they are free.
 */
import type Docker from 'dockerode';
import { pollUntil, TimeoutError } from '../wait';

/**
 * Whether a removal found the container gone or going: 404, or 409 "removal ... already in
 * progress" (someone else removes it right now).
 */
export const isGone = (err: unknown): boolean => {
  const { statusCode, message } = err as { statusCode?: number; message?: string };
  return statusCode === 404 || (statusCode === 409 && /already in progress/.test(message ?? ''));
};

/** Polls (every 100 ms, at most `limitMs`) until no container answers to `id`; false if one still does. */
export async function goneWithin(docker: Docker, id: string, limitMs: number): Promise<boolean> {
  const gone = () =>
    docker
      .getContainer(id)
      .inspect()
      .then(
        () => false,
        (err: unknown) => isGone(err),
      );
  return pollUntil(gone, { what: `${id} to be gone`, limitMs }).catch((err: unknown) => {
    if (err instanceof TimeoutError) return false;
    throw err;
  });
}

/**
 * Removes a container (by id or name), forcibly, with its anonymous volumes when `volumes`.
 * Resolves once it no longer exists: at once if it was already gone; after waiting (at most
 * `waitMs`, 15 s by default) if another party's removal was in progress.
 *
 * Errors: Docker's own (other than 404 and "already in progress"); an Error naming the
 * container if another party's removal has not finished within `waitMs`.
 */
export async function removeContainer(
  docker: Docker,
  id: string,
  { volumes = false, waitMs = 15_000 }: { volumes?: boolean; waitMs?: number } = {},
): Promise<void> {
  try {
    await docker.getContainer(id).remove({ force: true, v: volumes });
  } catch (err) {
    if (!isGone(err)) throw err;
    if (!(await goneWithin(docker, id, waitMs)))
      throw new Error(`${id} is still being removed after ${Math.round(waitMs / 1000)} s`, { cause: err });
  }
}
