/**
 * Images without a registry. The base image is provided by the first of these that works:
 *   1. already present in the engine;
 *   2. a classroom bundle (`images import FILE`, or `prepare --bundle FILE`);
 *   3. built from labs/images/base/Dockerfile, when the engine can pull debian:bookworm-slim;
 *   4. bootstrapped offline with debootstrap (a Linux host, as root), then imported.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, readFile, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import type { ImageInfo } from './types';
import { ApiError } from '../errors';
import type { TaskContext } from '../tasks';
import { throwIfAborted } from '../tasks';
import { runToCompletion } from './containers';
import { lines } from './streams';
import { labsDir } from '../paths';
import { APP_VERSION, IMAGE_LABEL, imageLabelsFor, labelsFor } from './labels';
import { provideShopImage, shopImageName } from './shop-image';

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

export async function listImages(docker: Docker): Promise<ImageInfo[]> {
  const labeled = await docker.listImages({ filters: { label: [IMAGE_LABEL.project] } });
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

async function imageExists(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** Reads a Docker JSON-lines progress stream to its end; rejects on an error line. */
function followStream(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  onLine?: (line: Record<string, unknown>) => void,
) {
  return new Promise<Record<string, unknown>[]>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, lines: Record<string, unknown>[]) => {
        if (err) return reject(err);
        const failed = lines.find((l) => l.error || l.errorDetail);
        if (failed) return reject(new Error(String(failed.error ?? JSON.stringify(failed.errorDetail))));
        resolve(lines);
      },
      onLine,
    );
  });
}

/** Counts the bytes that flow through, reporting them as progress. */
function byteCounter(ctx: TaskContext, totalBytes?: number): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      ctx.progress({ bytes, totalBytes });
      done(null, chunk);
    },
  });
}

// ---------------------------------------------------------------------------------------
// Bundles: one tar file with every image the labs need

async function assertTarFile(file: string): Promise<number> {
  let info;
  try {
    info = await stat(file);
  } catch {
    throw new ApiError('bundle-not-found', `no image bundle at ${file}`);
  }
  if (!info.isFile()) throw new ApiError('bundle-invalid', `${file} is not a file`);
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(512);
    const { bytesRead } = await handle.read(header, 0, 512, 0);
    if (bytesRead < 512 || header.toString('latin1', 257, 262) !== 'ustar') {
      throw new ApiError(
        'bundle-invalid',
        `${file} is not an image bundle (not a tar archive)`,
        'Use a file written by `microlab images export`.',
      );
    }
  } finally {
    await handle.close();
  }
  return info.size;
}

export async function importBundle(docker: Docker, file: string, ctx: TaskContext): Promise<string[]> {
  const size = await assertTarFile(file);
  ctx.progress({ message: `loading ${path.basename(file)}`, bytes: 0, totalBytes: size });
  const source = createReadStream(file);
  const input = source.pipe(byteCounter(ctx, size));
  source.on('error', (err) => input.destroy(err));
  const response = await docker.loadImage(input, { quiet: true, abortSignal: ctx.signal } as object);
  const lines = await followStream(docker, response);
  const loaded = lines
    .map((l) => /Loaded image(?: ID)?: (\S+)/.exec(String(l.stream ?? ''))?.[1])
    .filter((name): name is string => Boolean(name));
  if (loaded.length === 0) throw new ApiError('bundle-invalid', `${file} held no images`);
  return loaded;
}

/** Writes `names` (by default every image the labs need) to one tar file, via a .partial file. */
export async function exportBundle(
  docker: Docker,
  file: string,
  ctx: TaskContext,
  names?: string[],
): Promise<string[]> {
  const listed = await listImages(docker);
  const images = names
    ? names.map(
        (name) =>
          listed.find((i) => i.name === name) ?? { name, role: 'unknown', present: false, required: false },
      )
    : listed.filter((i) => i.required);
  const missing = images.filter((i) => !i.present).map((i) => i.name);
  if (missing.length) {
    throw new ApiError(
      'images-missing',
      `cannot export: ${missing.join(', ')} not present`,
      'Run `microlab images prepare` first.',
    );
  }
  const target = path.resolve(file);
  const partial = `${target}.partial`;
  const totalBytes = images.reduce((sum, i) => sum + (i.sizeBytes ?? 0), 0);
  ctx.progress({ message: `writing ${path.basename(target)}`, bytes: 0, totalBytes });
  try {
    // GET /images/get: dockerode has it, its type definitions do not.
    const withGetImages = docker as Docker & { getImages(opts: object): Promise<NodeJS.ReadableStream> };
    const stream = await withGetImages.getImages({
      names: images.map((i) => i.name),
      abortSignal: ctx.signal,
    });
    await pipeline(stream, byteCounter(ctx, totalBytes), createWriteStream(partial), { signal: ctx.signal });
    await rename(partial, target);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  return images.map((i) => i.name);
}

// ---------------------------------------------------------------------------------------
// Building the base image

export async function readPackageList(): Promise<string[]> {
  const text = await readFile(path.join(imagesDir(), 'base', 'packages.txt'), 'utf8');
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean);
}

/**
 * A hash of what the base image is made from (its package list and trim script), carried by
 * the image as IMAGE_LABEL.source: a base built from an older package list is stale.
 */
export async function baseSourceHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['packages.txt', 'trim.sh'])
    hash.update(file).update(await readFile(path.join(imagesDir(), 'base', file)));
  return hash.digest('hex').slice(0, 16);
}

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

async function baseChanges(): Promise<string[]> {
  const labels = imageLabelsFor('base', await baseSourceHash());
  return [
    `LABEL ${Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
    `ENV PATH=${BASE_PATH}`,
    'ENV LANG=C.UTF-8',
    'CMD ["/bin/bash"]',
  ];
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

export async function buildFromDockerfile(docker: Docker, name: string, ctx: TaskContext): Promise<void> {
  const context = path.join(imagesDir(), 'base');
  const stream = await docker.buildImage({ context, src: ['Dockerfile', 'packages.txt', 'trim.sh'] }, {
    t: name,
    labels: imageLabelsFor('base', await baseSourceHash()),
    abortSignal: ctx.signal,
  } as object);
  await followStream(docker, stream, (line) => {
    const text = String(line.stream ?? '').trim();
    if (text.startsWith('Step ')) ctx.progress({ message: text });
  });
}

/** Why the offline path cannot run here, or undefined when it can. */
export async function debootstrapUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'debootstrap needs a Linux host';
  if (process.getuid?.() !== 0) return 'debootstrap needs root (run `sudo microlab images prepare`)';
  const found = await new Promise<boolean>((resolve) => {
    const probe = spawn('debootstrap', ['--version'], { stdio: 'ignore' });
    probe.on('error', () => resolve(false));
    probe.on('exit', (code) => resolve(code === 0));
  });
  return found ? undefined : 'debootstrap is not installed (apt-get install debootstrap)';
}

/** Runs a command, killing its whole process group on cancel; resolves on exit 0. */
function run(
  command: string,
  args: string[],
  signal: AbortSignal,
  onLine?: (line: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let tail = '';
    // One splitter per stream: a line of stdout cut by a chunk is not mixed with stderr's.
    const splitters = [child.stdout, child.stderr].map((stream) => {
      const splitter = lines((line) => {
        tail = `${tail}${line}\n`.slice(-2000);
        if (line.trim()) onLine?.(line.trim());
      });
      stream.on('data', (chunk: Buffer) => splitter.write(chunk));
      return splitter;
    });
    const abort = () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
    };
    signal.addEventListener('abort', abort, { once: true });
    child.on('error', (err) => {
      signal.removeEventListener('abort', abort);
      reject(err);
    });
    child.on('exit', (code, sig) => {
      signal.removeEventListener('abort', abort);
      for (const splitter of splitters) splitter.end();
      if (signal.aborted) return reject(Object.assign(new Error('canceled'), { name: 'AbortError' }));
      if (code === 0) return resolve();
      reject(
        new Error(
          `${command} failed (${sig ?? `exit ${code}`}): ${tail.trim().split('\n').slice(-3).join(' | ')}`,
        ),
      );
    });
  });
}

/** debootstrap mounts /proc and friends inside the target; unmount them before deleting it. */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = await readFile('/proc/mounts', 'utf8').catch(() => '');
  const points = mounts
    .split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((p): p is string => Boolean(p) && (p === dir || p!.startsWith(dir + '/')))
    .sort((a, b) => b.length - a.length);
  for (const point of points) {
    await run('umount', ['-l', point], new AbortController().signal).catch(() => undefined);
  }
}

export function debootstrapCacheDir(): string {
  const cacheHome = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'microlab', 'debootstrap');
}

/** Bootstraps Debian into a temporary folder, trims it and imports it as `name`. */
export async function bootstrapOffline(docker: Docker, name: string, ctx: TaskContext): Promise<void> {
  const packages = await readPackageList();
  const root = await mkdtemp(path.join(os.tmpdir(), 'microlab-rootfs-'));
  const cacheDir = debootstrapCacheDir();
  await run('mkdir', ['-p', cacheDir], ctx.signal);
  try {
    const args = [
      '--variant=minbase',
      `--include=${packages.join(',')}`,
      `--cache-dir=${cacheDir}`,
      'bookworm',
      root,
    ];
    if (process.env.MICROLAB_DEBIAN_MIRROR) args.push(process.env.MICROLAB_DEBIAN_MIRROR);
    ctx.progress({ message: 'debootstrap: starting' });
    await run('debootstrap', args, ctx.signal, (line) => {
      if (line.startsWith('I: ')) ctx.progress({ message: `debootstrap: ${line.slice(3)}` });
    });
    throwIfAborted(ctx.signal);
    await unmountUnder(root);
    ctx.progress({ message: 'trimming caches, docs and locales' });
    await run('sh', [path.join(imagesDir(), 'base', 'trim.sh'), root], ctx.signal);

    ctx.progress({ message: `importing into the engine as ${name}`, bytes: 0 });
    const tar = spawn('tar', ['-C', root, '--numeric-owner', '-cf', '-', '.'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tarErrors = '';
    tar.stderr.on('data', (chunk: Buffer) => (tarErrors = (tarErrors + chunk.toString()).slice(-1000)));
    const tarExit = new Promise<number | null>((resolve) => tar.on('close', resolve));
    const abortTar = () => tar.kill('SIGTERM');
    ctx.signal.addEventListener('abort', abortTar, { once: true });
    try {
      const [repo, tag] = name.split(':') as [string, string];
      const response = await docker.importImage(tar.stdout.pipe(byteCounter(ctx)), {
        repo,
        tag,
        changes: await baseChanges(),
        abortSignal: ctx.signal,
      } as object);
      await followStream(docker, response);
      // A tar that failed half-way sent a truncated tree: the image must not stay.
      const code = await tarExit;
      if (code !== 0) {
        await docker
          .getImage(name)
          .remove({ force: true })
          .catch(() => undefined);
        throwIfAborted(ctx.signal);
        throw new Error(`tar of the bootstrapped tree failed (exit ${code}): ${tarErrors.trim()}`);
      }
    } finally {
      ctx.signal.removeEventListener('abort', abortTar);
    }
  } finally {
    await unmountUnder(root);
    await rm(root, { recursive: true, force: true });
  }
}

/** Runs the tools the labs rely on inside an image (node, nft, postgres, conntrack); returns their versions. */
export async function verifyBaseImage(docker: Docker, name: string, signal?: AbortSignal): Promise<string> {
  const result = await runToCompletion(
    docker,
    {
      Image: name,
      Cmd: ['sh', '-c', 'node --version && nft --version && postgres --version && conntrack --version'],
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
}

export async function prepareImages(
  docker: Docker,
  options: PrepareOptions,
  ctx: TaskContext,
): Promise<string> {
  const name = baseImageName();
  const skipped: string[] = [];
  const say = (step: number, message: string) =>
    ctx.progress({ step, message, bytes: undefined, totalBytes: undefined });

  say(1, `looking for ${name} in the engine`);
  // The shop image is built on the base, once the base is there.
  const withShop = async (base: string) => {
    say(6, `providing ${shopImageName()}`);
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
