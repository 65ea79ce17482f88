/**
 * Removing a container when someone else may be removing it too. The firewall agent removes a
 * pod's holder as soon as its app is destroyed; `up`, `down` and a new holder of the same name
 * may ask for the same removal a moment later. Docker then answers 409 "removal of container
 * ... is already in progress" and returns before the container is gone, so its name and its
 * network endpoints are still taken. `removeContainer` returns only once they are free.
 */
import type Docker from 'dockerode';
import { pollUntil, sleep, TimeoutError } from '../wait';
import { LABEL } from './labels';

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

/** What holds a network Docker refused to remove, as far as MicroLab may act on it. */
type Holder = 'ours-throwaway' | 'ours' | 'stale' | 'foreign';

/**
 * Removes one of `project`'s networks (by id or name). Docker refuses while the network has
 * endpoints (HTTP 403 "has active endpoints"), and it can say so a moment after the last
 * container went: the endpoint outlives its container briefly, or stays behind as a stale
 * record (moby/moby#17217, #42119). So, for at most `limitMs`, on that refusal it looks at each
 * endpoint and tries again:
 * - one no container answers to (stale) is disconnected with force;
 * - a throwaway container of the project (a probe or a load client started meanwhile) is removed;
 * - a container of the project that is going anyway (another caller removes it) is waited for.
 * A container MicroLab did not start is never touched: the refusal is thrown at once, for the
 * caller to name it (`networkRemovalFailure`). Other errors (404 included) pass through.
 */
export async function removeNetwork(
  docker: Docker,
  id: string,
  project: string,
  { limitMs = 10_000 }: { limitMs?: number } = {},
): Promise<void> {
  const network = docker.getNetwork(id);
  const deadline = Date.now() + limitMs;
  for (;;) {
    try {
      await network.remove();
      return;
    } catch (err) {
      if (!/active endpoints/i.test((err as Error).message) || Date.now() > deadline) throw err;
      const holders = await endpointHolders(docker, network, project);
      if (holders.some((h) => h.holder === 'foreign')) throw err;
      await Promise.all(
        holders.map(async ({ key, name, holder }) => {
          if (holder === 'stale')
            await network.disconnect({ Container: name || key, Force: true }).catch(() => undefined);
          else if (holder === 'ours-throwaway') await removeContainer(docker, key).catch(() => undefined);
        }),
      );
      await sleep(250);
    }
  }
}

async function endpointHolders(
  docker: Docker,
  network: Docker.Network,
  project: string,
): Promise<{ key: string; name: string; holder: Holder }[]> {
  const info = (await network.inspect()) as { Containers?: Record<string, { Name?: string }> };
  return Promise.all(
    Object.entries(info.Containers ?? {}).map(async ([key, { Name = '' }]) => {
      const labels = await docker
        .getContainer(key)
        .inspect()
        .then(
          (c) => c.Config.Labels ?? {},
          (err: unknown) => {
            if ((err as { statusCode?: number }).statusCode === 404) return undefined;
            throw err;
          },
        );
      const holder: Holder =
        labels === undefined
          ? 'stale'
          : labels[LABEL.project] !== project
            ? 'foreign'
            : labels[LABEL.transient] === 'true'
              ? 'ours-throwaway'
              : 'ours';
      return { key, name: Name, holder };
    }),
  );
}
