/**
 * The doctor: can this machine run the labs? Each check says what it found and, when it is
 * not a pass, what to do about it on the user's platform.
 */
import { statfs } from 'node:fs/promises';
import type Docker from 'dockerode';
import type { DoctorCheck, DoctorReport, ImageInfo } from './types';
import { ApiError } from '../errors';
import { normalizeArchitecture } from './arch';
import { runToCompletion } from './containers';
import { baseImageName, listImages } from './images';
import { labelsFor } from './labels';
import { engineProduct } from './podman';
import type { EngineRegistry } from './registry';
import { fullPoolHint, planSubnets, subnetPool, takenRanges } from './subnets';

const GiB = 1024 ** 3;
const MIN_API_VERSION = '1.41';

/**
 * The engine memory the labs need, in GiB, from `npm run bench -- footprint`: the heaviest lab
 * step (the microservices deployment segmented, catalog scaled to 2, under load) peaks at about
 * 470 MiB over every container MicroLab runs; a third more for what a student adds, and 512 MiB
 * for the engine's own VM (kernel, dockerd, containerd), rounded up to a whole GiB.
 */
export const MIN_ENGINE_MEMORY_GIB = 2;

/**
 * The firewall check the doctor runs, supplied by the firewall layer (firewall/features.ts):
 * a shell script for a throwaway container with NET_ADMIN in a namespace of its own, and the
 * reading of its output (exit code and combined stdout/stderr) as a finding.
 */
export interface FirewallCheck {
  script: string;
  read(output: string, exitCode: number): Omit<DoctorCheck, 'id' | 'title'>;
}

export interface DoctorOptions {
  firewall: FirewallCheck;
  /** The image the firewall check runs in; default the base image (tests use one with a fake `nft`). */
  firewallImage?: string;
}

export function formatBytes(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${Math.round(bytes / 1024 ** 2)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

async function check(
  id: DoctorCheck['id'],
  title: string,
  run: () => Promise<Omit<DoctorCheck, 'id' | 'title'>>,
): Promise<DoctorCheck> {
  try {
    return { id, title, ...(await run()) };
  } catch (err) {
    const hint = err instanceof ApiError ? err.hint : undefined;
    return { id, title, status: 'fail', summary: (err as Error).message, ...(hint ? { hint } : {}) };
  }
}

/**
 * Runs every check against the engine the registry finds. The firewall check runs only when the
 * base image is present and built for the engine's architecture: an image of another
 * architecture runs emulated, where nftables cannot work (QEMU's user-mode emulation refuses
 * NETLINK_NETFILTER, multiarch/qemu-user-static#191), so that is reported as its own finding.
 */
export async function runDoctor(
  registry: EngineRegistry,
  project: string,
  options: DoctorOptions,
): Promise<DoctorReport> {
  const platform = `${process.platform}/${normalizeArchitecture(process.arch)}`;
  let docker: Docker;
  let endpoint;
  try {
    ({ docker, endpoint } = await registry.get());
  } catch (err) {
    const e = err instanceof ApiError ? err : new ApiError('engine-unreachable', (err as Error).message);
    return {
      ok: false,
      platform,
      checks: [
        {
          id: 'engine',
          title: 'Docker engine',
          status: 'fail',
          summary: e.message,
          ...(e.hint ? { hint: e.hint } : {}),
        },
      ],
    };
  }

  const [version, info] = await Promise.all([
    docker.version(),
    docker.info() as Promise<Record<string, unknown>>,
  ]);
  const checks: DoctorCheck[] = [
    {
      id: 'engine',
      // Before a connection the product is not known; once connected, its version names it.
      title: `${engineProduct(version)} engine`,
      status: 'pass',
      summary: `connected to ${endpoint.address} (found by ${endpoint.source})`,
      details: { address: endpoint.address, 'found by': endpoint.source },
    },
    versionCheck(version),
    hostCheck(info),
    memoryCheck(info),
  ];
  const images = await listImages(docker);
  const base = images.find((i) => i.name === baseImageName());
  const engineArch = normalizeArchitecture(version.Arch);
  const architecture: DoctorCheck = {
    id: 'architecture',
    title: 'Lab images built for this engine',
    ...architectureCheck(images, engineArch),
  };
  checks.push(architecture);
  const firewall = () => {
    if (!base?.present) return Promise.resolve(needsBase('the firewall check'));
    if (architecture.status === 'fail')
      return Promise.resolve({
        status: 'fail' as const,
        summary: `not tried: the lab images are not built for this engine's ${engineArch} (see "Lab images built for this engine")`,
        hint: 'Fix the images first; the firewall check then runs natively.',
      });
    return nftablesCheck(docker, project, options);
  };
  checks.push(
    ...(await Promise.all([
      check('disk', 'Free disk for images and containers', () =>
        diskCheck(docker, info, base?.present ?? false),
      ),
      check('images', 'Lab images', async () => imagesCheck(images)),
      check('nftables', "Per-workload firewall (nftables in the workload's namespace)", firewall),
      check('subnets', 'Lab subnet pool', () => subnetsCheck(docker)),
    ])),
  );
  return { ok: checks.every((c) => c.status !== 'fail'), endpoint, platform, checks };
}

function needsBase(what: string): Omit<DoctorCheck, 'id' | 'title'> {
  return {
    status: 'fail',
    summary: `${what} needs ${baseImageName()}, which is not present`,
    hint: 'Run `microlab images prepare` (or "Prepare images" in the app), then check again.',
  };
}

function versionCheck(version: Docker.DockerVersion): DoctorCheck {
  const api = version.ApiVersion;
  const ok = compareVersions(api, MIN_API_VERSION) >= 0;
  return {
    id: 'version',
    title: 'Engine version',
    status: ok ? 'pass' : 'fail',
    summary: `${version.Components?.[0]?.Name ?? 'Engine'} ${version.Version}, API ${api}`,
    details: {
      engine: version.Version,
      api,
      os: `${version.Os}/${version.Arch}`,
      kernel: version.KernelVersion,
    },
    ...(ok
      ? {}
      : {
          hint: `MicroLab needs Docker API ${MIN_API_VERSION} or newer (Docker 20.10+): update your engine.`,
        }),
  };
}

function hostCheck(info: Record<string, unknown>): DoctorCheck {
  const cpus = Number(info.NCPU);
  const memory = Number(info.MemTotal);
  const low = cpus < 2;
  return {
    id: 'host',
    title: 'Engine host',
    status: low ? 'warn' : 'pass',
    summary: `${String(info.OperatingSystem)} (${String(info.OSType)}/${normalizeArchitecture(String(info.Architecture))}), ${cpus} CPUs, ${formatBytes(memory)} memory`,
    details: {
      os: String(info.OperatingSystem),
      arch: normalizeArchitecture(String(info.Architecture)),
      cpus: String(cpus),
      memory: formatBytes(memory),
      'storage driver': String(info.Driver),
    },
    ...(low
      ? {
          hint: 'The microservices lab wants 2 CPUs for the engine: raise them in Docker Desktop (Settings > Resources), Colima (colima start --cpu 2) or Podman machine (podman machine set --cpus 2).',
        }
      : {}),
  };
}

/** The engine's memory against what the heaviest lab step measured (MIN_ENGINE_MEMORY_GIB). */
function memoryCheck(info: Record<string, unknown>): DoctorCheck {
  const memory = Number(info.MemTotal);
  const need = MIN_ENGINE_MEMORY_GIB * GiB;
  // A VM reports a little less than its setting (its kernel keeps some back): 10% slack.
  const low = !(memory >= need * 0.9);
  return {
    id: 'memory',
    title: 'Engine memory',
    status: low ? 'warn' : 'pass',
    summary: `${formatBytes(memory)} for the engine; the heaviest lab step needs ${MIN_ENGINE_MEMORY_GIB} GiB`,
    details: { memory: formatBytes(memory), needed: `${MIN_ENGINE_MEMORY_GIB} GiB` },
    ...(low
      ? {
          hint: `Raise Docker Desktop's memory to ${MIN_ENGINE_MEMORY_GIB} GiB (Settings > Resources > Memory), or \`colima start --memory ${MIN_ENGINE_MEMORY_GIB}\`, or \`podman machine set --memory ${MIN_ENGINE_MEMORY_GIB * 1024}\`; on Linux the host itself has less: close other programs before the microservices lab.`,
        }
      : {}),
  };
}

/**
 * Each present lab image's architecture (its config's `Architecture`) against the engine's:
 * another architecture runs emulated if at all, and nftables never does.
 */
function architectureCheck(images: ImageInfo[], engineArch: string): Omit<DoctorCheck, 'id' | 'title'> {
  const present = images.filter((i) => i.required && i.present);
  if (!present.length)
    return {
      status: 'warn',
      summary: `no lab image yet to compare with the engine's ${engineArch}`,
      hint: 'Run `microlab images prepare`, or import the classroom bundle: `microlab images import FILE`.',
    };
  // listImages read each image's config already.
  const archs = present.map((i) => ({ name: i.name, arch: i.architecture ?? 'unknown' }));
  const details = Object.fromEntries([['engine', engineArch], ...archs.map((a) => [a.name, a.arch])]);
  const wrong = archs.filter((a) => a.arch !== engineArch);
  if (!wrong.length)
    return { status: 'pass', summary: `${archs.length} of ${archs.length} built for ${engineArch}`, details };
  return {
    status: 'fail',
    summary: `${wrong.map((w) => `${w.name} is ${w.arch}`).join(', ')}; the engine runs ${engineArch}`,
    details,
    hint:
      `Import the classroom bundle for ${engineArch}: \`microlab images import FILE\` with a bundle that holds ${engineArch} ` +
      `(the instructor makes one with \`microlab images prepare --arch amd64,arm64\`, then \`microlab images export FILE\`), ` +
      `or run \`microlab images prepare\` on this machine. Images of another architecture run emulated, and nftables does not work under emulation.`,
  };
}

/** Free space where the engine keeps its data: read directly when the engine is local, else from inside a container. */
async function diskCheck(docker: Docker, info: Record<string, unknown>, haveBase: boolean) {
  const root = String(info.DockerRootDir ?? '');
  let free: number | undefined;
  let where = root;
  try {
    const fs = await statfs(root);
    free = fs.bavail * fs.bsize;
  } catch {
    if (haveBase) {
      const result = await runToCompletion(docker, {
        Image: baseImageName(),
        Cmd: ['df', '-Pk', '/'],
        Labels: labelsFor('microlab', 'doctor', { transient: true }),
        HostConfig: { NetworkMode: 'none' },
      });
      const kib = Number(result.output.trim().split('\n').at(-1)?.split(/\s+/)[3]);
      if (Number.isFinite(kib)) free = kib * 1024;
      where = "the engine's disk (seen from a container)";
    }
  }
  if (free === undefined) {
    return {
      status: 'warn' as const,
      summary: `cannot measure free space in ${root || "the engine's data folder"} from here`,
      hint: 'Run `microlab images prepare`; the check then measures from inside a container.',
    };
  }
  const status = free < 2 * GiB ? ('fail' as const) : free < 8 * GiB ? ('warn' as const) : ('pass' as const);
  return {
    status,
    summary: `${formatBytes(free)} free in ${where}`,
    details: { free: formatBytes(free), where },
    ...(status === 'pass'
      ? {}
      : {
          hint: 'The labs need about 2 GiB for images and containers, 8 GiB to be comfortable: free some space (docker system prune removes unused things of every project).',
        }),
  };
}

function imagesCheck(images: Awaited<ReturnType<typeof listImages>>) {
  const missing = images.filter((i) => i.required && !i.present).map((i) => i.name);
  if (missing.length) {
    return {
      status: 'fail' as const,
      summary: `missing: ${missing.join(', ')}`,
      hint: 'Run `microlab images prepare` (or "Prepare images" in the app). Offline? Import the classroom bundle: `microlab images import FILE`.',
    };
  }
  const required = images.filter((i) => i.required);
  return {
    status: 'pass' as const,
    summary: `${required.length} of ${required.length} present`,
    details: Object.fromEntries(required.map((i) => [i.name, formatBytes(i.sizeBytes ?? 0)])),
  };
}

/**
 * The firewall's premise, tried for real: a throwaway workload with no capabilities, and a
 * sidecar sharing its network namespace with NET_ADMIN only, which runs the firewall layer's
 * probe there (every construct the compiler emits, and a conntrack deletion).
 */
async function nftablesCheck(docker: Docker, project: string, options: DoctorOptions) {
  const suffix = Math.random().toString(36).slice(2, 8);
  const image = options.firewallImage ?? baseImageName();
  const workload = await docker.createContainer({
    name: `microlab-doctor-${suffix}`,
    Image: image,
    Cmd: ['sleep', '60'],
    Labels: labelsFor(project, 'doctor', { workload: 'doctor', transient: true }),
    HostConfig: { NetworkMode: 'none', CapDrop: ['ALL'] },
  });
  try {
    await workload.start();
    const result = await runToCompletion(docker, {
      name: `microlab-doctor-${suffix}-fw`,
      Image: image,
      Cmd: ['sh', '-c', options.firewall.script],
      Labels: labelsFor(project, 'doctor-sidecar', { workload: 'doctor', transient: true }),
      HostConfig: { NetworkMode: `container:${workload.id}`, CapDrop: ['ALL'], CapAdd: ['NET_ADMIN'] },
    });
    return options.firewall.read(result.output, result.exitCode);
  } finally {
    await workload.remove({ force: true }).catch(() => undefined);
  }
}

/**
 * Networks a deployment needs at most (the perimeter layout: one per segment, and the edge):
 * below this many free ones, the doctor warns that the perimeter may not fit.
 */
const NETWORKS_AT_MOST = 8;
/** And the flat layout's two (lab, edge): fewer free, and `up` cannot place them. */
const NETWORKS_AT_LEAST = 2;

/** The same planner `up` uses (engine/subnets.ts): the doctor fails exactly when `up` could not place its networks. */
async function subnetsCheck(docker: Docker) {
  const plan = planSubnets(subnetPool(), await takenRanges(docker));
  const takenText = plan.taken.length
    ? ` (taken: ${plan.taken
        .slice(0, 4)
        .map((t) => `${t.cidr} by ${t.by}`)
        .join(', ')}${plan.taken.length > 4 ? `, and ${plan.taken.length - 4} more` : ''})`
    : '';
  const summary = `${plan.pool}: ${plan.free} of ${plan.size} lab networks free${takenText}`;
  const details = { pool: plan.pool, free: String(plan.free), ...(plan.next ? { next: plan.next } : {}) };
  if (plan.free < NETWORKS_AT_LEAST)
    return { status: 'fail' as const, summary, details, hint: fullPoolHint(plan) };
  if (plan.free < NETWORKS_AT_MOST)
    return {
      status: 'warn' as const,
      summary,
      details,
      hint: `The flat layout fits; the perimeter layout needs up to ${NETWORKS_AT_MOST}: run \`microlab down\` in projects you no longer use, or set MICROLAB_SUBNET_POOL to a larger free range.`,
    };
  return { status: 'pass' as const, summary, details };
}
