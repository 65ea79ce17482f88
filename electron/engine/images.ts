/**
 * Images without a registry. The base image is provided by the first of these that works:
 *   1. already present in the engine;
 *   2. a classroom bundle (`images import FILE`, or `prepare --bundle FILE`);
 *   3. built from labs/images/base/Dockerfile, when the engine can pull debian:bookworm-slim;
 *   4. bootstrapped offline with debootstrap (a Linux host, as root), then loaded.
 * Another architecture than the engine's (`prepare --arch amd64,arm64`, for a classroom bundle)
 * is bootstrapped offline through QEMU's emulation, and named with its architecture as a tag
 * suffix (arch.ts). Every image runs the LTS Node of labs/images/base/node.json.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import type { ImageInfo } from './types';
import { ApiError } from '../errors';
import type { TaskContext } from '../tasks';
import { throwIfAborted } from '../tasks';
import { runToCompletion } from './containers';
import { labsDir } from '../paths';
import { APP_VERSION, IMAGE_LABEL, imageLabelsFor, labelsFor } from './labels';
import { provideShopImage, shopImageName } from './shop-image';
import {
  ARCHITECTURES,
  architectureImageName,
  engineArchitecture,
  imageArchitecture,
  normalizeArchitecture,
} from './arch';
import { bootstrapTree, debootstrapUnavailable } from './bootstrap';
import { exportGroups, followStream, importBundle, writeBundle } from './bundle';
import { provideNodeBinary } from './node-runtime';

export { importBundle } from './bundle';
export { debootstrapCacheDir, debootstrapUnavailable } from './bootstrap';

export const BASE_REPOSITORY = 'microlab/base';
export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';
const BASE_PATH = `${POSTGRES_BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
const UPSTREAM_IMAGE = 'debian:bookworm-slim';

export function baseImageName(version = APP_VERSION): string {
  return `${BASE_REPOSITORY}:${version}`;
}

/** The images every lab needs, with the role each plays. */
export function requiredImages(): { name: string; role: string }[] {
  return [
    { name: baseImageName(), role: 'base' },
    { name: shopImageName(), role: 'shop' },
  ];
}

function imagesDir(): string {
  return path.join(labsDir(), 'images');
}

/**
 * An image's name as the labs spell it: Podman names an image without a registry
 * `localhost/microlab/base:0.1.0` (and may spell Docker Hub's `docker.io/...`) where Docker
 * says `microlab/base:0.1.0`; both engines find it by the short name.
 */
export function shortImageName(tag: string): string {
  return tag.replace(/^(localhost|docker\.io)\//, '');
}

/**
 * The lab images in the engine (found by their label), the required ones first (absent ones
 * too), each with its size and its architecture (from its config, `amd64`, `arm64`).
 */
export async function listImages(docker: Docker): Promise<ImageInfo[]> {
  const labeled = await docker.listImages({ filters: { label: [IMAGE_LABEL.project] } });
  const architectures = new Map(
    await Promise.all(
      labeled.map(async (image) => {
        const info = await docker
          .getImage(image.Id)
          .inspect()
          .catch(() => undefined);
        return [image.Id, info ? normalizeArchitecture(info.Architecture) : undefined] as const;
      }),
    ),
  );
  const byName = new Map<string, ImageInfo>();
  for (const image of labeled) {
    for (const tag of image.RepoTags ?? []) {
      if (tag === '<none>:<none>') continue;
      byName.set(shortImageName(tag), {
        name: shortImageName(tag),
        role: image.Labels?.[IMAGE_LABEL.role] ?? 'unknown',
        present: true,
        id: image.Id,
        sizeBytes: image.Size,
        created: new Date(image.Created * 1000).toISOString(),
        architecture: architectures.get(image.Id),
        required: false,
      });
    }
  }
  const required = requiredImages().map(({ name, role }) => {
    const found = byName.get(name);
    byName.delete(name);
    return found ? { ...found, required: true } : { name, role, present: false, required: true };
  });
  return [...required, ...[...byName.values()].sort((a, b) => a.name.localeCompare(b.name))];
}

/**
 * Writes every architecture prepared here (the lab images under their names for each
 * architecture, see architectureImageName), or only `names`, to one bundle file (bundle.ts).
 * Returns `name (arch)` for each image written. Errors: `images-missing`.
 */
export async function exportBundle(
  docker: Docker,
  file: string,
  ctx: TaskContext,
  names?: string[],
): Promise<string[]> {
  let chosen = names;
  if (!chosen) {
    const native = await engineArchitecture(docker);
    const required = requiredImages().map((i) => i.name);
    chosen = [];
    for (const arch of ARCHITECTURES) {
      const here = required.map((n) => architectureImageName(n, arch, native));
      if (arch === native || (await imageExists(docker, here[0]!))) chosen.push(...here);
    }
  }
  return writeBundle(docker, file, await exportGroups(docker, chosen), ctx);
}

async function imageExists(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------
// Building the base image

/**
 * A hash of what the base image is made from (its package list, trim script and Node release),
 * carried by the image as IMAGE_LABEL.source: a base built from older material is stale.
 */
export async function baseSourceHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of BASE_SOURCES)
    hash.update(file).update(await readFile(path.join(imagesDir(), 'base', file)));
  return hash.digest('hex').slice(0, 16);
}

const BASE_SOURCES = ['packages.txt', 'trim.sh', 'node.json'];

/** Whether the base image is there and built from the current package list. */
async function baseState(docker: Docker, name: string): Promise<'missing' | 'stale' | 'current'> {
  let labels: Record<string, string>;
  try {
    labels = (await docker.getImage(name).inspect()).Config.Labels ?? {};
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return 'missing';
    throw err;
  }
  return labels[IMAGE_LABEL.source] === (await baseSourceHash()) ? 'current' : 'stale';
}

async function baseSettings() {
  return {
    labels: imageLabelsFor('base', await baseSourceHash()),
    env: [`PATH=${BASE_PATH}`, 'LANG=C.UTF-8'],
    cmd: ['/bin/bash'],
  };
}

/** Tries to make debian:bookworm-slim available; says why not when no registry answers. */
async function upstreamAvailable(
  docker: Docker,
  signal: AbortSignal,
): Promise<{ ok: boolean; why?: string }> {
  if (await imageExists(docker, UPSTREAM_IMAGE)) return { ok: true };
  try {
    const stream = (await docker.pull(UPSTREAM_IMAGE, {
      abortSignal: AbortSignal.any([signal, AbortSignal.timeout(20_000)]),
    } as object)) as NodeJS.ReadableStream;
    await followStream(docker, stream);
    return { ok: true };
  } catch (err) {
    throwIfAborted(signal);
    return {
      ok: false,
      why: `no registry reachable (pulling ${UPSTREAM_IMAGE}: ${(err as Error).message.split('\n')[0]})`,
    };
  }
}

/** Builds the base from labs/images/base/Dockerfile (debian:bookworm-slim), with the LTS Node binary in its context. */
export async function buildFromDockerfile(docker: Docker, name: string, ctx: TaskContext): Promise<void> {
  const node = await provideNodeBinary(await engineArchitecture(docker), ctx.signal, (message) =>
    ctx.progress({ message }),
  );
  const context = await mkdtemp(path.join(os.tmpdir(), 'microlab-base-'));
  try {
    const files = ['Dockerfile', ...BASE_SOURCES];
    for (const file of files) await copyFile(path.join(imagesDir(), 'base', file), path.join(context, file));
    await copyFile(node.file, path.join(context, 'node'));
    const stream = await docker.buildImage({ context, src: [...files, 'node'] }, {
      t: name,
      labels: imageLabelsFor('base', await baseSourceHash()),
      abortSignal: ctx.signal,
    } as object);
    await followStream(docker, stream, (line) => {
      const text = String(line.stream ?? '').trim();
      if (text.startsWith('Step ')) ctx.progress({ message: text });
    });
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

/**
 * Bootstraps Debian offline with debootstrap for `arch` (default: the host's; another one runs
 * through QEMU) and loads it as `name`, an image of that architecture (bootstrap.ts).
 */
export async function bootstrapOffline(
  docker: Docker,
  name: string,
  ctx: TaskContext,
  arch?: string,
): Promise<void> {
  await bootstrapTree(docker, name, await baseSettings(), ctx, arch);
}

/** Runs the tools the labs rely on inside an image (node, nft, postgres, conntrack); returns their versions. */
export async function verifyBaseImage(docker: Docker, name: string, signal?: AbortSignal): Promise<string> {
  return checkTools(
    docker,
    name,
    'node --version && nft --version && postgres --version && conntrack --version',
    signal,
  );
}

/**
 * The same check for an image of another architecture than the engine's, run under QEMU's
 * user-mode emulation: node and postgres print their versions; nft and conntrack cannot, since
 * QEMU refuses the netlink socket they open first ("Protocol not supported", "Can't open
 * handler"), so each must run to that refusal (its code loaded and executed, every shared library
 * found: `ldd`), and its package version is read instead. Their netlink half is tested natively.
 */
export async function verifyEmulatedImage(
  docker: Docker,
  name: string,
  signal?: AbortSignal,
): Promise<string> {
  const script = [
    'set -e',
    'node --version',
    'postgres --version',
    'for f in /usr/local/bin/node /usr/sbin/nft /usr/sbin/conntrack; do ldd "$f" | grep "not found" && exit 1; done',
    'for b in nft conntrack; do',
    '  out=$($b --version 2>&1 || true)',
    '  case "$out" in *"Protocol not supported"*|*"Can\'t open handler"*|"nftables v"*|"conntrack v"*) ;; *) echo "$b: $out"; exit 1;; esac',
    'done',
    "for p in nftables conntrack; do dpkg-query -W -f '${Package} ${Version} (runs; its netlink socket is refused under emulation)\\n' $p; done",
  ].join('\n');
  return checkTools(docker, name, script, signal);
}

async function checkTools(
  docker: Docker,
  name: string,
  script: string,
  signal?: AbortSignal,
): Promise<string> {
  const result = await runToCompletion(
    docker,
    {
      Image: name,
      Cmd: ['sh', '-c', script],
      Labels: labelsFor('microlab', 'image-check', { transient: true }),
      HostConfig: { NetworkMode: 'none' },
    },
    { signal },
  );
  if (result.exitCode !== 0) {
    throw new ApiError(
      'image-broken',
      `${name} does not run its tools (exit ${result.exitCode}): ${result.output.trim()}`,
    );
  }
  return result.output.trim().split('\n').join(', ');
}

// ---------------------------------------------------------------------------------------
// prepare: the first way that works

export interface PrepareOptions {
  bundle?: string;
  /**
   * The architectures to prepare (`amd64`, `arm64`; default: the engine's own). The engine's
   * own goes the first way that works; another is bootstrapped offline through QEMU and named
   * with its architecture as a tag suffix (`microlab/base:0.1.0-arm64`), for `images export`.
   */
  architectures?: string[];
}

/**
 * Provides every lab image for each architecture asked for; returns one line per architecture
 * saying how. Errors: `images-unavailable`, `emulation-unavailable`, `image-broken`.
 */
export async function prepareImages(
  docker: Docker,
  options: PrepareOptions,
  ctx: TaskContext,
): Promise<string> {
  const native = await engineArchitecture(docker);
  const architectures = options.architectures?.length ? options.architectures : [native];
  const results: string[] = [];
  if (architectures.includes(native)) results.push(await prepareNative(docker, native, options, ctx));
  for (const arch of architectures.filter((a) => a !== native))
    results.push(`${arch}: ${await prepareOther(docker, arch, native, ctx)}`);
  return results.join('\n');
}

/** Another architecture than the engine's: bootstrapped offline through QEMU, under suffixed names. */
async function prepareOther(docker: Docker, arch: string, native: string, ctx: TaskContext): Promise<string> {
  const name = architectureImageName(baseImageName(), arch, native);
  const shop = architectureImageName(shopImageName(), arch, native);
  const say = (step: number, message: string) =>
    ctx.progress({ step, message: `${arch}: ${message}`, bytes: undefined, totalBytes: undefined });
  say(1, `looking for ${name} in the engine`);
  let how = `${name} is already present`;
  if ((await baseState(docker, name)) !== 'current') {
    const why = await debootstrapUnavailable();
    if (why)
      throw new ApiError(
        'images-unavailable',
        `cannot build ${name} for ${arch}: ${why}`,
        "Another architecture than the engine's is built offline with debootstrap through QEMU, on a Linux host as root.",
      );
    say(4, `bootstrapping Debian for ${arch} offline with debootstrap, emulated by QEMU`);
    await bootstrapOffline(docker, name, ctx, arch);
    say(5, `checking ${name} (emulated)`);
    // An image whose tools do not run must not stay: a later prepare would take it as current.
    const versions = await verifyEmulatedImage(docker, name, ctx.signal).catch(async (err: unknown) => {
      await docker
        .getImage(name)
        .remove({ force: true })
        .catch(() => undefined);
      throw err;
    });
    how = `bootstrapped offline with debootstrap through QEMU: ${versions}`;
  }
  say(6, `providing ${shop}`);
  return `${how}; ${await provideShopImage(docker, name, ctx, undefined, shop)}`;
}

async function prepareNative(
  docker: Docker,
  native: string,
  options: PrepareOptions,
  ctx: TaskContext,
): Promise<string> {
  const name = baseImageName();
  const skipped: string[] = [];
  const say = (step: number, message: string) =>
    ctx.progress({ step, message, bytes: undefined, totalBytes: undefined });

  say(1, `looking for ${name} in the engine`);
  // The shop image is built on the base, once the base is there. A shop image of another
  // architecture named by MICROLAB_SHOP_IMAGE (the arm64 test runs the shop emulated beside
  // native firewalls) is prepared by --arch, and left as it is here.
  const withShop = async (base: string) => {
    say(6, `providing ${shopImageName()}`);
    const shopArch = await imageArchitecture(docker, shopImageName());
    if (shopArch && shopArch !== native)
      return `${base}; ${shopImageName()} is an image for ${shopArch}, left as it is (it runs emulated)`;
    return `${base}; ${await provideShopImage(docker, name, ctx)}`;
  };
  const state = await baseState(docker, name);
  if (state === 'current') return withShop(`${name} is already present`);
  // A stale base (built from an older package list) is rebuilt where this machine can build
  // it; otherwise it is kept, and the result says so.
  const keepStale = (why: string) =>
    withShop(`${name} is present but older than labs/images/base (${why}); kept`);

  if (options.bundle) {
    say(2, `importing the bundle ${options.bundle}`);
    await importBundle(docker, options.bundle, ctx);
    if ((await baseState(docker, name)) !== 'missing')
      return withShop(`imported ${name} from the bundle ${options.bundle}`);
    skipped.push(`the bundle ${options.bundle} does not hold ${name}`);
  } else {
    skipped.push('no bundle given');
  }

  say(3, `checking whether a registry is reachable for ${UPSTREAM_IMAGE}`);
  const upstream = await upstreamAvailable(docker, ctx.signal);
  let how: string;
  if (upstream.ok) {
    say(3, 'building from labs/images/base/Dockerfile');
    await buildFromDockerfile(docker, name, ctx);
    how = 'built from its Dockerfile';
  } else {
    skipped.push(upstream.why!);
    const why = await debootstrapUnavailable();
    if (why && state === 'stale') return keepStale([...skipped, why].join('; '));
    if (why) {
      throw new ApiError(
        'images-unavailable',
        `cannot provide ${name}: ${[...skipped, why].join('; ')}`,
        'Ask your instructor for the classroom bundle and run `microlab images import FILE`, or connect to the internet and run `microlab images prepare` again.',
      );
    }
    say(
      4,
      `bootstrapping Debian offline with debootstrap${state === 'stale' ? ` (${name} is older than its package list)` : ''}`,
    );
    await bootstrapOffline(docker, name, ctx);
    how = 'bootstrapped offline with debootstrap';
  }
  say(5, `checking ${name}`);
  const versions = await verifyBaseImage(docker, name, ctx.signal);
  return withShop(`${how} (${skipped.join('; ')}): ${versions}`);
}

export const PREPARE_STEPS = 6;
