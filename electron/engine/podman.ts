/**
 * Podman through its Docker-compatible API (`podman system service`): what differs from Docker
 * and how MicroLab makes up for it.
 *
 * Podman runs a container's health check from a systemd timer. Where no systemd runs (a
 * container, WSL, a CI machine), no check ever runs and every workload stays "starting".
 * MicroLab then runs the checks itself while it waits on workloads (the libpod API's
 * `GET /libpod/containers/{id}/healthcheck` runs one and records its result), so `up`, `scale`
 * and `upgrade` work; between those, the health shown is the last one recorded.
 */
import type Docker from 'dockerode';

/** Which product answers, from a `GET /version` reply (Podman names itself among its components). */
export function engineProduct(version: { Components?: { Name?: string }[] }): 'Docker' | 'Podman' {
  return (version.Components ?? []).some((c) => /podman/i.test(c.Name ?? '')) ? 'Podman' : 'Docker';
}

/** Whether the engine behind `docker` is Podman (from its version's components). */
export async function isPodman(docker: Docker): Promise<boolean> {
  return engineProduct(await docker.version()) === 'Podman';
}

/**
 * Runs a container's health check once, through the libpod API, and lets Podman record the
 * result in the container's health state. Errors (no check defined, container gone) are
 * ignored: the caller reads the state anyway.
 */
export async function runHealthcheck(docker: Docker, id: string): Promise<void> {
  await new Promise<void>((resolve) => {
    docker.modem.dial(
      {
        // The libpod API answers under a version prefix only (4.0.0 is its oldest).
        path: `/v4.0.0/libpod/containers/${encodeURIComponent(id)}/healthcheck?`,
        method: 'GET',
        statusCodes: { 200: true, 404: true, 409: true, 500: true },
      },
      () => resolve(),
    );
  });
}

/**
 * Fills in each listed container's `HostConfig.NetworkMode` (`container:<id>` for one that
 * joined another's network namespace). Docker's list carries it; Podman 4.3's list has no
 * `HostConfig`, so those containers are inspected (one gone meanwhile keeps an empty mode).
 */
export async function withNetworkModes(
  docker: Docker,
  list: Docker.ContainerInfo[],
): Promise<Docker.ContainerInfo[]> {
  return Promise.all(
    list.map(async (c) => {
      if (c.HostConfig?.NetworkMode !== undefined) return c;
      const info = await docker
        .getContainer(c.Id)
        .inspect()
        .catch(() => undefined);
      return { ...c, HostConfig: { ...c.HostConfig, NetworkMode: info?.HostConfig.NetworkMode ?? '' } };
    }),
  );
}

const podmanEngines = new WeakMap<Docker, Promise<boolean>>();

/** `isPodman`, asked once per client (a failed answer is asked again next time). */
export function engineIsPodman(docker: Docker): Promise<boolean> {
  let known = podmanEngines.get(docker);
  if (!known) {
    known = isPodman(docker);
    podmanEngines.set(docker, known);
    known.catch(() => podmanEngines.delete(docker));
  }
  return known;
}

/**
 * The addresses of the engine's DNS resolvers that a workload reaches outside its own
 * namespace, from its networks (`{ name: { Gateway } }`, as a container's list entry or
 * inspection gives them): on Podman, aardvark-dns answers on each network's gateway; on
 * Docker none (its resolver, 127.0.0.11, is inside the namespace). Sorted, no duplicates.
 */
export function resolversOf(
  podman: boolean,
  networks: Record<string, { Gateway?: string }> | null | undefined,
): string[] {
  if (!podman) return [];
  const gateways = Object.values(networks ?? {})
    .map((n) => n.Gateway ?? '')
    .filter((g) => /^\d{1,3}(\.\d{1,3}){3}$/.test(g));
  return [...new Set(gateways)].sort();
}
