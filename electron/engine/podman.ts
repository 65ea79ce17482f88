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

/** Whether the engine behind `docker` is Podman (from its version's components). */
export async function isPodman(docker: Docker): Promise<boolean> {
  const version = (await docker.version()) as { Components?: { Name?: string }[] };
  return (version.Components ?? []).some((c) => /podman/i.test(c.Name ?? ''));
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
