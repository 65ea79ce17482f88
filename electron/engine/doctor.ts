/**
 * The doctor: can this machine run the labs? Each check says what it found and, when it is
 * not a pass, what to do about it on the user's platform.
 */
import { statfs } from 'node:fs/promises';
import type Docker from 'dockerode';
import type { DoctorCheck, DoctorReport } from './types';
import { ApiError } from '../errors';
import { runToCompletion } from './containers';
import { baseImageName, listImages } from './images';
import { labelsFor } from './labels';
import { engineProduct } from './podman';
import type { EngineRegistry } from './registry';
import { fullPoolHint, planSubnets, subnetPool, takenRanges } from './subnets';

const GiB = 1024 ** 3;
const MIN_API_VERSION = '1.41';
const NFT_TABLE = 'microlab_doctor';

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

export async function runDoctor(registry: EngineRegistry, project: string): Promise<DoctorReport> {
  const platform = `${process.platform}/${process.arch}`;
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
  ];
  const images = await listImages(docker);
  const base = images.find((i) => i.name === baseImageName());
  checks.push(
    ...(await Promise.all([
      check('disk', 'Free disk for images and containers', () =>
        diskCheck(docker, info, base?.present ?? false),
      ),
      check('images', 'Lab images', async () => imagesCheck(images)),
      check('nftables', 'Per-workload firewall (nftables in a sidecar)', () =>
        base?.present ? nftablesCheck(docker, project) : Promise.resolve(needsBase('the firewall check')),
      ),
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
  const low = cpus < 2 || memory < 3 * GiB;
  return {
    id: 'host',
    title: 'Engine host',
    status: low ? 'warn' : 'pass',
    summary: `${String(info.OperatingSystem)} (${String(info.OSType)}/${String(info.Architecture)}), ${cpus} CPUs, ${formatBytes(memory)} memory`,
    details: {
      os: String(info.OperatingSystem),
      arch: String(info.Architecture),
      cpus: String(cpus),
      memory: formatBytes(memory),
      'storage driver': String(info.Driver),
    },
    ...(low
      ? {
          hint: 'The microservices lab wants 2 CPUs and 3 GiB for the engine: raise them in Docker Desktop / Colima / Podman machine settings.',
        }
      : {}),
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
 * sidecar sharing its network namespace with NET_ADMIN only, which loads a table and lists it.
 */
async function nftablesCheck(docker: Docker, project: string) {
  const suffix = Math.random().toString(36).slice(2, 8);
  const workload = await docker.createContainer({
    name: `microlab-doctor-${suffix}`,
    Image: baseImageName(),
    Cmd: ['sleep', '60'],
    Labels: labelsFor(project, 'doctor', { workload: 'doctor', transient: true }),
    HostConfig: { NetworkMode: 'none', CapDrop: ['ALL'] },
  });
  try {
    await workload.start();
    const rules = [
      `table inet ${NFT_TABLE} {`,
      '  chain input {',
      '    type filter hook input priority 0; policy accept;',
      '    tcp dport 9 counter drop comment "doctor"',
      '  }',
      '}',
    ].join('\n');
    const result = await runToCompletion(docker, {
      name: `microlab-doctor-${suffix}-fw`,
      Image: baseImageName(),
      Cmd: ['sh', '-c', `nft -f - <<'EOF'\n${rules}\nEOF\nnft list table inet ${NFT_TABLE}`],
      Labels: labelsFor(project, 'doctor-sidecar', { workload: 'doctor', transient: true }),
      HostConfig: { NetworkMode: `container:${workload.id}`, CapDrop: ['ALL'], CapAdd: ['NET_ADMIN'] },
    });
    if (result.exitCode !== 0 || !result.output.includes(`table inet ${NFT_TABLE}`)) {
      return {
        status: 'fail' as const,
        summary: `the sidecar could not load an nftables table (exit ${result.exitCode}): ${result.output.trim().slice(0, 300)}`,
        hint:
          process.platform === 'linux'
            ? 'The kernel needs nf_tables: sudo modprobe nf_tables, and the engine must allow NET_ADMIN for containers.'
            : "Your engine's VM kernel lacks nf_tables: update Docker Desktop / Colima / Podman machine.",
      };
    }
    return {
      status: 'pass' as const,
      summary: "a sidecar with NET_ADMIN loaded and listed a table in an unprivileged workload's namespace",
    };
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
