/**
 * Firewall sidecars: one small container per workload instance, sharing its network
 * namespace (`NetworkMode: container:<id>`) with NET_ADMIN and nothing else. The workload
 * itself stays unprivileged and unaware.
 *
 * The sidecar's main process is `nft monitor trace`, restarted after every table load (so it
 * knows the new rules and prints their comments); its output is the container's log, which
 * is the flow log's history. Tables, counters and probes are exec'd into it.
 */
import type Docker from 'dockerode';
import { demuxLogs } from '../engine/containers';
import { baseImageName } from '../engine/images';
import { LABEL, labelsFor } from '../engine/labels';
import type { WorkloadInstance } from '../topology/workload';

export const FIREWALL_ROLE = 'firewall';
/** On a sidecar: the id of the workload container whose namespace it shares. */
export const TARGET_LABEL = 'io.microlab.firewall.target';

/** Restarts the trace monitor whenever it ends (after a load, the apply ends it on purpose). */
const MAIN = 'while :; do nft monitor trace; sleep 0.05; done';
/** Loads the table file given as $1 in one transaction, then restarts the trace monitor. */
const LOAD = `printf '%s' "$1" | nft -f - || exit $?; pkill -f '^nft monitor trace' || true`;
/** An argument longer than this does not fit in one exec argument (Linux: 128 KiB). */
const MAX_TABLE_BYTES = 120 * 1024;

export interface Sidecar {
  id: string;
  name: string;
  target: string;
  workload: string;
  running: boolean;
  startedAt?: string;
}

export function sidecarName(instance: WorkloadInstance): string {
  return `${instance.containerName}-fw`.slice(0, 120);
}

export async function listSidecars(docker: Docker, project: string): Promise<Sidecar[]> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL.project}=${project}`, `${LABEL.role}=${FIREWALL_ROLE}`] },
  });
  return list.map((c) => ({
    id: c.Id,
    name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
    target: c.Labels?.[TARGET_LABEL] ?? '',
    workload: c.Labels?.[LABEL.workload] ?? '',
    running: c.State === 'running',
  }));
}

export async function createSidecar(
  docker: Docker,
  project: string,
  instance: WorkloadInstance,
  image = baseImageName(),
): Promise<Sidecar> {
  const name = sidecarName(instance);
  // A leftover of the same name (a dead sidecar) goes first.
  await docker
    .getContainer(name)
    .remove({ force: true })
    .catch(() => undefined);
  const container = await docker.createContainer({
    name,
    Image: image,
    Cmd: ['sh', '-c', MAIN],
    Labels: {
      ...labelsFor(project, FIREWALL_ROLE, { workload: instance.name }),
      [TARGET_LABEL]: instance.containerId,
    },
    HostConfig: {
      NetworkMode: `container:${instance.containerId}`,
      CapDrop: ['ALL'],
      CapAdd: ['NET_ADMIN'],
      LogConfig: { Type: 'json-file', Config: { 'max-size': '4m', 'max-file': '2' } },
    },
  });
  await container.start();
  const info = await container.inspect();
  return {
    id: container.id,
    name,
    target: instance.containerId,
    workload: instance.name,
    running: true,
    startedAt: info.State.StartedAt,
  };
}

export interface ExecResult {
  exitCode: number;
  output: string;
}

/** Runs a command in a container and collects its output (stdout and stderr together). */
export async function execIn(
  docker: Docker,
  containerId: string,
  cmd: string[],
  { timeoutMs = 15_000 }: { timeoutMs?: number } = {},
): Promise<ExecResult> {
  const exec = await docker
    .getContainer(containerId)
    .exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy();
      reject(
        new Error(`${cmd[0]} in ${containerId.slice(0, 12)} did not finish within ${timeoutMs / 1000}s`),
      );
    }, timeoutMs);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    stream.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const { ExitCode } = await exec.inspect();
  return { exitCode: ExitCode ?? -1, output: demuxLogs(Buffer.concat(chunks)) };
}

/** Loads a table file into the sidecar's namespace, atomically. */
export async function loadTable(docker: Docker, sidecarId: string, text: string): Promise<void> {
  if (Buffer.byteLength(text) > MAX_TABLE_BYTES)
    throw new Error(`the compiled table is ${Buffer.byteLength(text)} bytes, more than ${MAX_TABLE_BYTES}`);
  const result = await execIn(docker, sidecarId, ['sh', '-c', LOAD, 'load', text]);
  if (result.exitCode !== 0)
    throw new Error(`nft -f failed (exit ${result.exitCode}): ${result.output.trim()}`);
}
