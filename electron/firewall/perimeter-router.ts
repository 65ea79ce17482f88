/**
 * The perimeter router on the engine: start it, load its table, read the layout back.
 * (The layout and the table themselves are pure: topology/perimeter.ts, firewall/perimeter.ts.)
 *
 * The router is a firewall, not a workload of the shop: it carries io.microlab.role=perimeter,
 * so the per-workload enforcer, the probes and the status leave it alone; `down` removes it.
 */
import { performance } from 'node:perf_hooks';
import type Docker from 'dockerode';
import { ApiError } from '../errors';
import { baseImageName } from '../engine/images';
import { LABEL, labelsFor } from '../engine/labels';
import type { PerimeterLayout } from '../topology/perimeter';
import { ROUTER } from '../topology/perimeter';
import type { WorkloadInstance } from '../topology/workload';
import { cutScript, parseConntrack, parseCutResults } from './cut';
import type { ApplyOptions, ApplyReport } from './enforcer';
import { compilePerimeter, perimeterConnectionsToCut } from './perimeter';
import type { Policy } from './policy';
import { execIn } from '../engine/exec';
import { TRACE_PIPE, WHOLE_LINES } from './sidecar';
import { pollUntil, seconds, TimeoutError } from '../wait';

export const ROUTER_ROLE = 'perimeter';
/** Where the router's main process keeps the pid of its running trace monitor. */
const MONITOR_PID = '/tmp/microlab.monitor';
/** How long the router may take from its start to its first table loaded (it says 'ready'). */
const ROUTER_READY_MS = 10_000;

/** What "no policy" means at the router: every cross-segment flow passes, as on a flat network. */
const OPEN: Policy = { mode: 'off', defaultAction: 'allow', segments: [], rules: [] };

export async function findRouter(docker: Docker, project: string): Promise<Docker.ContainerInfo | undefined> {
  const [router] = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL.project}=${project}`, `${LABEL.role}=${ROUTER_ROLE}`] },
  });
  return router;
}

/**
 * Creates and starts the router on every segment network (`networkOf` gives the Docker network
 * of a segment), adds the proxy addresses, and loads a table that lets cross-segment flows pass.
 */
export async function startRouter(
  docker: Docker,
  project: string,
  layout: PerimeterLayout,
  networkOf: (segment: string) => string,
  workloads:
    WorkloadInstance[] | { name: string; labels: Record<string, string>; ports: WorkloadInstance['ports'] }[],
): Promise<Docker.Container> {
  const [first, ...rest] = layout.segments;
  if (!first) throw new ApiError('perimeter-empty', 'the perimeter layout has no segments');
  // Each proxy address goes on the interface that holds the router's address on that segment.
  const addProxies = layout.segments
    .map((s) => {
      const proxies = layout.proxies.filter((p) => p.segment === s.segment).map((p) => p.address);
      if (proxies.length === 0) return '';
      return `dev=$(ip -o -4 addr show | awk '$4 ~ /^${s.router.replace(/\./g, '\\.')}\\//{print $2}')\nfor a in ${proxies.join(' ')}; do ip addr add "$a/24" dev "$dev"; done`;
    })
    .filter(Boolean)
    .join('\n');
  // Its main process then prints every traced connection: its log is the perimeter's flow log.
  // The monitor knows the rules (their comments, which name the rule ids) as they were when it
  // started, so each load stops it (loadRouter) and the loop starts it again.
  const script = [
    'set -e',
    addProxies,
    `printf '%s' "$1" | nft -f -`,
    `[ -p ${TRACE_PIPE} ] || mkfifo ${TRACE_PIPE}`,
    `${WHOLE_LINES} 0<> ${TRACE_PIPE} &`,
    'echo ready',
    'set +e',
    `while :; do nft monitor trace > ${TRACE_PIPE} & echo $! > ${MONITOR_PID}; wait $!; done`,
  ].join('\n');
  const container = await docker.createContainer({
    name: `${project}-${ROUTER}-1`,
    Image: baseImageName(),
    Cmd: ['sh', '-c', script, 'router', compilePerimeter(OPEN, layout, workloads)],
    Labels: labelsFor(project, ROUTER_ROLE, { workload: ROUTER }),
    StopSignal: 'SIGKILL',
    HostConfig: {
      NetworkMode: networkOf(first.segment),
      CapDrop: ['ALL'],
      CapAdd: ['NET_ADMIN'],
      Sysctls: { 'net.ipv4.ip_forward': '1' },
      Memory: 32 * 1024 * 1024,
      PidsLimit: 20,
    },
    NetworkingConfig: {
      EndpointsConfig: { [networkOf(first.segment)]: { IPAMConfig: { IPv4Address: first.router } } },
    },
  });
  for (const s of rest) {
    await docker
      .getNetwork(networkOf(s.segment))
      .connect({ Container: container.id, EndpointConfig: { IPAMConfig: { IPv4Address: s.router } } });
  }
  await container.start();
  const ready = async () => {
    const logs = (await container.logs({ stdout: true, stderr: true })) as unknown as Buffer;
    if (logs.includes('ready')) return true;
    const info = await container.inspect();
    if (!info.State.Running) {
      throw new ApiError(
        'perimeter-router',
        `the perimeter firewall did not start: ${logs.toString('utf8').trim().slice(-300)}`,
      );
    }
    return false;
  };
  await pollUntil(ready, {
    what: 'the perimeter firewall to get ready',
    limitMs: ROUTER_READY_MS,
    everyMs: 50,
  }).catch((err: unknown) => {
    if (!(err instanceof TimeoutError)) throw err;
    throw new ApiError(
      'perimeter-router',
      `the perimeter firewall did not get ready within ${seconds(ROUTER_READY_MS)}`,
    );
  });
  return container;
}

/**
 * Loads the policy's table into the router, atomically; reports like the enforcer does. Unless
 * `keepEstablished`, the connections across the perimeter that the new table denies are cut
 * (their conntrack entries deleted, see cut.ts), as the per-workload enforcer does: a pooled
 * keep-alive connection would otherwise outlive the change for minutes.
 */
export async function loadRouter(
  docker: Docker,
  routerId: string,
  policy: Policy,
  layout: PerimeterLayout,
  workloads: WorkloadInstance[],
  options: ApplyOptions = {},
): Promise<ApplyReport> {
  const start = performance.now();
  const text = compilePerimeter(policy, layout, workloads);
  // Loaded, the monitor starts again (see startRouter), so it prints the new rules' comments.
  const result = await execIn(docker, routerId, [
    'sh',
    '-c',
    `printf "%s" "$1" | nft -f - && { kill "$(cat ${MONITOR_PID})" 2> /dev/null; true; }`,
    'load',
    text,
  ]);
  const error = result.exitCode === 0 ? undefined : result.output.trim().slice(0, 500);
  const keepEstablished = options.keepEstablished ?? false;
  let cut = 0;
  let cutError: string | undefined;
  if (!error && !keepEstablished) {
    try {
      cut = await cutDenied(docker, routerId, policy, layout, workloads);
    } catch (err) {
      cutError = (err as Error).message;
    }
  }
  return {
    ...(policy.name ? { policy: policy.name } : {}),
    instances: workloads.length,
    loaded: error ? 0 : 1,
    unchanged: 0,
    failed: error ? 1 : 0,
    connectionsCut: cut,
    keptEstablished: keepEstablished,
    durationMs: Math.round(performance.now() - start),
    tables: [
      {
        workload: ROUTER,
        container: `${ROUTER}`,
        containerId: routerId,
        holder: routerId,
        mode: policy.mode,
        loaded: !error,
        ...(error ? { error } : {}),
        ...(error ? {} : { cut }),
        ...(cutError ? { cutError } : {}),
      },
    ],
  };
}

/** Lists the router's conntrack entries, deletes those the policy denies; returns how many went. */
async function cutDenied(
  docker: Docker,
  routerId: string,
  policy: Policy,
  layout: PerimeterLayout,
  workloads: WorkloadInstance[],
): Promise<number> {
  const listed = await execIn(docker, routerId, ['conntrack', '-L']);
  if (listed.exitCode !== 0)
    throw new Error(`conntrack -L failed (exit ${listed.exitCode}): ${listed.output.trim().slice(0, 300)}`);
  const cuts = perimeterConnectionsToCut(policy, layout, workloads, parseConntrack(listed.output));
  if (cuts.length === 0) return 0;
  const done = await execIn(docker, routerId, ['sh', '-c', cutScript(cuts)]);
  return parseCutResults(done.output).size;
}
