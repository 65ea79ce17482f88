/**
 * `load:run`: the load generator runs in a client container (the shop image with
 * SHOP_ROLE=loadgen) on the edge network, where the storefront answers as `storefront`.
 * It prints a JSON line a second, re-emitted as `load:update`, and a summary at the end.
 */
import type { CapacityOptions, CapacityResult } from '../../labs/shop/src/loadgen/capacity';
import type {
  EndpointStats as LoadEndpointStats,
  Scenario as LoadScenario,
} from '../../labs/shop/src/loadgen/stats';
import { DEFAULT_MIX as DEFAULT_LOAD_MIX } from '../../labs/shop/src/loadgen/stats';
import type { LoadReport, LoadUpdate } from './types';
import { ApiError } from '../errors';
import { labelsFor } from '../engine/labels';
import { demux, jsonLines } from '../engine/streams';
import { shopImageName } from '../engine/shop-image';
import type { TaskContext } from '../tasks';
import { sleep } from '../wait';
import type { Target } from './apply';
import { currentDeployment, networkName } from './apply';
import { APP_PORT, FRONT_DOOR_CPU_SHARES, STOREFRONT_ALIAS } from './declarations';

export interface LoadOptions {
  /** Scenarios/s; with `capacity`, the search's first rate. */
  rate: number;
  /** Seconds; with `capacity`, the most the search may take. */
  duration: number;
  mix?: Partial<Record<LoadScenario, number>>;
  /** Search for the capacity instead of a constant rate (bounds and steps; the rest as capacity.ts's defaults). */
  capacity?: Partial<Omit<CapacityOptions, 'start'>>;
}

export { DEFAULT_LOAD_MIX };

export function formatMix(mix: Partial<Record<LoadScenario, number>>): string {
  return Object.entries(mix)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

interface Tick {
  type: 'tick';
  elapsed: number;
  duration: number;
  window: LoadEndpointStats[];
}

interface Summary {
  type: 'summary';
  elapsed: number;
  started: number;
  dropped: number;
  endpoints: LoadEndpointStats[];
  errorSamples: string[];
  capacity?: CapacityResult;
}

/** One step of a capacity search, as the generator prints it when the step ends. */
interface Step {
  type: 'step';
  rate: number;
  served: number;
  p95: number;
  ok: boolean;
  over?: string;
}

export async function runLoad(
  { docker, project }: Target,
  taskId: string,
  options: LoadOptions,
  onUpdate: (update: LoadUpdate) => void,
  ctx: TaskContext,
): Promise<LoadReport> {
  const d = await currentDeployment(docker, project);
  if (!d)
    throw new ApiError('not-deployed', 'no deployment is running', 'Start one with `microlab up monolith`.');
  const mix = options.mix ?? DEFAULT_LOAD_MIX;
  ctx.progress({ step: 1, message: `starting the load generator against the ${d.name}` });
  const container = await docker.createContainer({
    name: `${project}-loadgen-${taskId.slice(0, 8)}`,
    Image: shopImageName(),
    Env: [
      'SHOP_ROLE=loadgen',
      `LOAD_TARGET=http://${STOREFRONT_ALIAS}:${APP_PORT}`,
      `LOAD_RATE=${options.rate}`,
      `LOAD_DURATION=${options.duration}`,
      `LOAD_MIX=${formatMix(mix)}`,
      ...(options.capacity ? [`LOAD_CAPACITY=${JSON.stringify(options.capacity)}`] : []),
    ],
    Labels: labelsFor(project, 'client', { workload: 'loadgen', transient: true }),
    HostConfig: {
      NetworkMode: networkName(project, 'edge'),
      Memory: 256 * 1024 * 1024,
      NanoCpus: 1e9,
      // The instrument must not be what saturates on a busy host.
      CpuShares: FRONT_DOOR_CPU_SHARES,
      PidsLimit: 100,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
    },
  });
  let summary: Summary | undefined;
  const output: string[] = [];
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    const stdout = jsonLines((value) => {
      const line = value as Tick | Summary | Step;
      if (line.type === 'tick') {
        ctx.progress({ step: 2, message: `${line.elapsed.toFixed(0)}/${line.duration}s` });
        onUpdate({ taskId, elapsed: line.elapsed, duration: line.duration, window: line.window });
      } else if (line.type === 'step')
        ctx.progress({
          step: 2,
          message: `${line.rate}/s offered: ${line.served}/s served, p95 ${line.p95} ms${line.ok ? '' : ` (over: ${line.over ?? ''})`}`,
        });
      else if (line.type === 'summary') summary = line;
      else output.push(JSON.stringify(value));
    });
    demux(stream, stdout, { write: (c: Buffer) => output.push(c.toString()) });
    stream.on('error', () => undefined);
    await container.start();
    ctx.progress({ step: 2, message: 'running' });
    const onAbort = () => void container.kill().catch(() => undefined);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    ctx.signal.removeEventListener('abort', onAbort);
    // Let the attached stream deliver its last lines.
    await sleep(100);
    stdout.end();
    if (StatusCode !== 0 || !summary) {
      throw new ApiError(
        'load-failed',
        `the load generator stopped (exit ${StatusCode}) without a summary: ${output.join('').trim().slice(-400)}`,
      );
    }
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
  return {
    taskId,
    deployment: d.name,
    rate: options.rate,
    duration: options.duration,
    mix,
    elapsed: summary.elapsed,
    started: summary.started,
    dropped: summary.dropped,
    endpoints: summary.endpoints,
    errorSamples: summary.errorSamples,
    ...(summary.capacity ? { capacity: summary.capacity } : {}),
  };
}
