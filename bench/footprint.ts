/**
 * The minimum laptop, measured (issue 16): each lab's heaviest step, run for real in a project
 * of its own, while every container MicroLab runs there is sampled once a second with the
 * engine's own statistics (`docker stats`: memory as the CLI counts it, usage less the
 * inactive file cache; CPU in cores from the usage delta over the system delta):
 *
 *   - the microservices deployment, segmented (a holder per replica), catalog scaled to 2, under load;
 *   - the monolith scaled out to 3 copies behind its balancer, segmented, under load;
 *   - the perimeter layout (microservices, a network per segment and the router), under load.
 *
 * Reported per step: peak memory and CPU summed over the containers, and the containers'
 * count; then the disk: the lab images, the containers' writable layers and the volumes at the
 * heaviest step. From the peak it derives the engine memory a laptop needs (the peak, a third
 * more for what a student adds, and the engine's own 512 MiB, rounded up to a whole GiB) and
 * compares it with what the doctor asks for (MIN_ENGINE_MEMORY_GIB).
 */
import path from 'node:path';
import type Docker from 'dockerode';
import type { DeploymentName, LoadReport } from '../electron/api/contract';
import { localApi } from '../electron/api/local';
import { formatBytes, MIN_ENGINE_MEMORY_GIB } from '../electron/engine/doctor';
import { listImages } from '../electron/engine/images';
import { LABEL } from '../electron/engine/labels';
import { labsDir } from '../electron/paths';
import { createServices } from '../electron/services';
import { sleep } from '../electron/wait';

const PROJECT = 'microlab-bench-footprint';
const GiB = 1024 ** 3;
/** The load each step runs under: the labs' own order of magnitude (browse, cart, checkout). */
const RATE = 30;
const SECONDS = 30;
/** What a student adds on top of a step's own peak (terminals, a second load, a probe run). */
const HEADROOM = 4 / 3;
/**
 * The engine's own share of its VM's memory, which `docker stats` does not show: the VM's
 * kernel, dockerd, containerd and their shims (Docker Desktop, Colima and Podman machine alike).
 */
const ENGINE_OWN = 512 * 1024 ** 2;

interface Sample {
  memoryBytes: number;
  cpuCores: number;
  containers: number;
}

interface StepFootprint {
  step: string;
  peakMemory: number;
  peakCpu: number;
  containers: number;
  samples: number;
  load: LoadReport;
}

/** One container's memory (as `docker stats` shows it) and CPU in cores, from a one-shot stats call. */
function readStats(stats: Docker.ContainerStats): { memory: number; cpu: number } {
  const mem = stats.memory_stats;
  const cache =
    (mem.stats as Record<string, number> | undefined)?.inactive_file ??
    (mem.stats as Record<string, number> | undefined)?.total_inactive_file ??
    0;
  const memory = Math.max(0, (mem.usage ?? 0) - cache);
  const cpuDelta = stats.cpu_stats.cpu_usage.total_usage - stats.precpu_stats.cpu_usage.total_usage;
  const systemDelta = (stats.cpu_stats.system_cpu_usage ?? 0) - (stats.precpu_stats.system_cpu_usage ?? 0);
  const online = stats.cpu_stats.online_cpus ?? stats.cpu_stats.cpu_usage.percpu_usage?.length ?? 1;
  const cpu = systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online : 0;
  return { memory, cpu };
}

/** Every running container of the project, sampled at once. */
async function sample(docker: Docker): Promise<Sample> {
  const containers = await docker.listContainers({ filters: { label: [`${LABEL.project}=${PROJECT}`] } });
  const stats = await Promise.all(
    containers.map((c) =>
      docker
        .getContainer(c.Id)
        .stats({ stream: false })
        .then(readStats)
        .catch(() => ({ memory: 0, cpu: 0 })),
    ),
  );
  return {
    memoryBytes: stats.reduce((n, s) => n + s.memory, 0),
    cpuCores: stats.reduce((n, s) => n + s.cpu, 0),
    containers: containers.length,
  };
}

/** Samples every second while `work` runs; the peaks. */
async function measure(docker: Docker, work: () => Promise<LoadReport>) {
  const samples: Sample[] = [];
  let done = false;
  const sampler = (async () => {
    while (!done) {
      samples.push(await sample(docker));
      await sleep(1000);
    }
  })();
  try {
    const load = await work();
    return { samples, load };
  } finally {
    done = true;
    await sampler;
  }
}

/** The disk MicroLab holds for the project: images, writable layers, volumes. */
async function disk(docker: Docker) {
  const images = (await listImages(docker)).filter((i) => i.required);
  const containers = (await docker.listContainers({
    all: true,
    size: true,
    filters: { label: [`${LABEL.project}=${PROJECT}`] },
  } as Docker.ContainerListOptions)) as (Docker.ContainerInfo & { SizeRw?: number })[];
  const df = (await docker.df()) as {
    Volumes?: { Labels?: Record<string, string> | null; UsageData?: { Size: number } }[];
  };
  const volumes = (df.Volumes ?? []).filter((v) => v.Labels?.[LABEL.project] === PROJECT);
  return {
    images: images.reduce((n, i) => n + (i.sizeBytes ?? 0), 0),
    imageCount: images.length,
    writable: containers.reduce((n, c) => n + (c.SizeRw ?? 0), 0),
    volumes: volumes.reduce((n, v) => n + Math.max(0, v.UsageData?.Size ?? 0), 0),
    volumeCount: volumes.length,
  };
}

export async function benchFootprint(): Promise<void> {
  const services = createServices({ project: PROJECT });
  const { call, run } = localApi(services);
  const docker = (await services.registry.get()).docker;
  const policy = (deployment: DeploymentName) =>
    path.join(labsDir(), 'policies', `${deployment}-segmented.yaml`);
  const apply = async (deployment: DeploymentName) => {
    const result = await call('policy:apply', { file: policy(deployment) });
    const failed = result.report.tables.filter((t) => t.error);
    if (failed.length) throw new Error(`policy: ${failed.map((t) => t.error).join('; ')}`);
  };
  const load = async () => {
    const final = await run('load:run', { rate: RATE, duration: SECONDS });
    return call('load:report', { taskId: final.id });
  };
  const steps: { step: string; setUp: () => Promise<void> }[] = [
    {
      step: 'microservices, segmented, catalog ×2, under load',
      setUp: async () => {
        await run('deploy:up', { deployment: 'microservices', port: 0 });
        await apply('microservices');
        await run('deploy:scale', { service: 'catalog', replicas: 2 });
      },
    },
    {
      step: 'monolith ×3 behind its balancer, segmented, under load',
      setUp: async () => {
        await run('deploy:up', { deployment: 'monolith', port: 0 });
        await apply('monolith');
        await run('deploy:scale', { service: 'shop', replicas: 3 });
      },
    },
    {
      step: 'perimeter (microservices), segmented, under load',
      setUp: async () => {
        await run('deploy:up', { deployment: 'microservices', port: 0, layout: 'perimeter' });
        await apply('microservices');
      },
    },
  ];

  console.log(`\n## Footprint: each lab's heaviest step, ${RATE} scenarios/s for ${SECONDS} s`);
  const results: StepFootprint[] = [];
  let heaviestDisk: Awaited<ReturnType<typeof disk>> | undefined;
  try {
    await run('images:prepare', {});
    await call('resources:down', {});
    for (const { step, setUp } of steps) {
      await setUp();
      const { samples, load: report } = await measure(docker, load);
      const peakMemory = Math.max(...samples.map((s) => s.memoryBytes));
      const r: StepFootprint = {
        step,
        peakMemory,
        peakCpu: Math.max(...samples.map((s) => s.cpuCores)),
        containers: Math.max(...samples.map((s) => s.containers)),
        samples: samples.length,
        load: report,
      };
      results.push(r);
      const all = report.endpoints.find((e) => e.endpoint === 'all')!;
      const errors = report.errorSamples.length ? `\n  errors: ${report.errorSamples.join('; ')}` : '';
      console.log(
        `${step}: peak memory ${formatBytes(r.peakMemory)}, peak CPU ${r.peakCpu.toFixed(2)} cores, ${r.containers} containers (${r.samples} samples; load ${all.rps} req/s, p95 ${all.p95} ms, ${all.errors} errors)${errors}`,
      );
      if (!results.some((x) => x !== r && x.peakMemory >= r.peakMemory)) heaviestDisk = await disk(docker);
      await call('resources:down', {});
    }
  } finally {
    await call('resources:down', {}).catch(() => undefined);
  }
  const heaviest = results.reduce((a, b) => (b.peakMemory > a.peakMemory ? b : a));
  if (heaviestDisk) {
    const d = heaviestDisk;
    console.log(
      `disk: ${formatBytes(d.images)} of lab images (${d.imageCount}), ${formatBytes(d.writable)} of container layers and ${formatBytes(d.volumes)} in ${d.volumeCount} volumes at the heaviest step; ${formatBytes(d.images + d.writable + d.volumes)} in all`,
    );
  }
  const needed = Math.ceil((heaviest.peakMemory * HEADROOM + ENGINE_OWN) / GiB);
  console.log(
    `minimum engine memory: ${needed} GiB (the heaviest step, ${heaviest.step}, peaks at ${formatBytes(heaviest.peakMemory)}; a third more for what a student adds, and the engine's own ${formatBytes(ENGINE_OWN)}, rounded up); the doctor asks for ${MIN_ENGINE_MEMORY_GIB} GiB${needed === MIN_ENGINE_MEMORY_GIB ? '' : `: set MIN_ENGINE_MEMORY_GIB (electron/engine/doctor.ts) to ${needed}`}`,
  );
  console.log(
    `peak CPU: ${Math.max(...results.map((r) => r.peakCpu)).toFixed(2)} cores over every step (the load generator included)`,
  );
}
