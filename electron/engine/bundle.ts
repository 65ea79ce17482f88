/**
 * The classroom bundle: every lab image of every architecture prepared, in one file.
 *
 * Format (version 2): a tar archive whose first entry is `microlab-bundle.json`
 * ({@link BundleManifest}), followed by one `docker save` archive per architecture
 * (`amd64.tar`, `arm64.tar`), each loadable by Docker (classic or containerd store) and Podman
 * as it is. A bundle written before (version 1) is one `docker save` archive; its architecture
 * is read from its image configs. An import loads the engine's own architecture only, under the
 * names the labs run, and refuses a bundle that does not hold it before loading anything.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { ApiError } from '../errors';
import type { TaskContext } from '../tasks';
import { APP_VERSION } from './labels';
import { architectureImageName, engineArchitecture, imageArchitecture, normalizeArchitecture } from './arch';

export const BUNDLE_MANIFEST = 'microlab-bundle.json';
export const BUNDLE_FORMAT = 'microlab-bundle';

/** `microlab-bundle.json`: which archive holds which architecture's images. */
export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  version: 2;
  /** MicroLab's version that wrote it. */
  app: string;
  architectures: BundleArchive[];
}

export interface BundleArchive {
  /** Docker's name of the architecture: `amd64`, `arm64`. */
  architecture: string;
  /** The entry of the bundle holding this architecture's `docker save` archive. */
  file: string;
  /** `name`: what the labs run it as; `saved`: its name inside the archive (an arch suffix on the writer's engine). */
  images: { name: string; saved: string }[];
}

/**
 * What a bundle holds, as read from it: a version 2 bundle's manifest, or for a version 1 bundle
 * (one `docker save` archive, `file` undefined) each image's architecture from its config.
 */
export interface BundleIndex {
  version: 1 | 2;
  architectures: { architecture: string; file?: string; images: { name: string; saved: string }[] }[];
}

/** What an import does: load one archive (or, version 1, the whole file) and retag; or refuse. */
export type ImportPlan =
  | {
      action: 'load';
      architecture: string;
      /** The bundle's entry to load; undefined: the whole file (version 1). */
      file?: string;
      /** Saved names to tag as the labs' names (and then untag). */
      retag: { from: string; to: string }[];
      names: string[];
    }
  | { action: 'refuse'; message: string; hint: string };

/**
 * The import planner: which part of `index` an engine of architecture `engine` (`amd64`,
 * `arm64`) loads. A pure function: it reads nothing and loads nothing. A bundle without the
 * engine's architecture, or a version 1 bundle that mixes architectures, is refused with what to
 * do; nothing of it is loaded.
 */
export function planImport(index: BundleIndex, engine: string, file = 'the bundle'): ImportPlan {
  const held = index.architectures.map((a) => a.architecture);
  const own = index.architectures.filter((a) => a.architecture === engine);
  if (index.version === 1 && held.some((a) => a !== engine) && own.length) {
    return {
      action: 'refuse',
      message: `${file} mixes architectures (${[...new Set(held)].join(', ')}) in one archive; the engine runs ${engine}`,
      hint: 'Write the bundle again with `microlab images export FILE` (one archive per architecture).',
    };
  }
  if (own.length === 0) {
    return {
      action: 'refuse',
      message: `${file} holds images for ${held.length ? [...new Set(held)].join(', ') : 'no architecture'}, not for this engine's ${engine}: they would run emulated, where nftables does not work`,
      hint: `Ask for a bundle that holds ${engine} (the instructor runs \`microlab images prepare --arch amd64,arm64\` and \`microlab images export FILE\`), or run \`microlab images prepare\` on this machine.`,
    };
  }
  const images = own.flatMap((a) => a.images);
  return {
    action: 'load',
    architecture: engine,
    file: own[0]!.file,
    retag: images.filter((i) => i.saved !== i.name).map((i) => ({ from: i.saved, to: i.name })),
    names: images.map((i) => i.name),
  };
}

// ---------------------------------------------------------------------------------------

/** Counts the bytes that flow through, reporting them as progress. */
export function byteCounter(ctx: TaskContext, totalBytes?: number, start = 0): Transform {
  let bytes = start;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      ctx.progress({ bytes, totalBytes });
      done(null, chunk);
    },
  });
}

/** Reads a Docker JSON-lines progress stream to its end; rejects on an error line. */
export function followStream(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  onLine?: (line: Record<string, unknown>) => void,
): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
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

async function readAll(entry: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function bundleInvalid(file: string, what: string): ApiError {
  return new ApiError(
    'bundle-invalid',
    `${file} is not an image bundle (${what})`,
    'Use a file written by `microlab images export`.',
  );
}

function parseManifest(file: string, text: string): BundleIndex {
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(text) as BundleManifest;
  } catch (err) {
    throw bundleInvalid(file, `${BUNDLE_MANIFEST}: ${(err as Error).message}`);
  }
  if (manifest.format !== BUNDLE_FORMAT || !Array.isArray(manifest.architectures))
    throw bundleInvalid(file, `${BUNDLE_MANIFEST} is not MicroLab's`);
  if (manifest.version !== 2)
    throw new ApiError(
      'bundle-invalid',
      `${file} is a bundle of version ${String(manifest.version)}, newer than this MicroLab reads (2)`,
      'Update MicroLab, or ask for a bundle written by this version.',
    );
  return {
    version: 2,
    architectures: manifest.architectures.map((a) => ({
      architecture: normalizeArchitecture(String(a.architecture)),
      file: String(a.file),
      images: a.images.map((i) => ({ name: String(i.name), saved: String(i.saved) })),
    })),
  };
}

/**
 * A `docker save` archive's images and their architectures, from its `manifest.json` and each
 * image's config (`<id>.json`, or `blobs/sha256/<id>` in the OCI layout Docker 25 writes).
 */
function indexDockerArchive(file: string, small: Map<string, Buffer>): BundleIndex {
  const manifestText = small.get('manifest.json');
  if (!manifestText) throw bundleInvalid(file, 'neither microlab-bundle.json nor a docker save manifest');
  const manifest = JSON.parse(manifestText.toString('utf8')) as { Config: string; RepoTags?: string[] }[];
  const byArch = new Map<string, { name: string; saved: string }[]>();
  for (const item of manifest) {
    const config = small.get(item.Config);
    if (!config) throw bundleInvalid(file, `the image config ${item.Config} is missing`);
    const arch = normalizeArchitecture(
      String((JSON.parse(config.toString('utf8')) as { architecture?: string }).architecture ?? 'amd64'),
    );
    const list = byArch.get(arch) ?? [];
    for (const tag of item.RepoTags ?? []) list.push({ name: tag, saved: tag });
    byArch.set(arch, list);
  }
  return {
    version: 1,
    architectures: [...byArch].map(([architecture, images]) => ({ architecture, images })),
  };
}

const SMALL_ENTRY = 1024 * 1024;

/** What a bundle file holds (reads a version 1 bundle through once, keeping only its small entries). */
export async function readBundleIndex(file: string): Promise<BundleIndex> {
  await assertTarFile(file);
  const source = createReadStream(file);
  const extract = tar.extract();
  source.pipe(extract);
  const small = new Map<string, Buffer>();
  let first = true;
  try {
    for await (const entry of extract) {
      const name = entry.header.name.replace(/^\.\//, '');
      if (first && name === BUNDLE_MANIFEST)
        return parseManifest(file, (await readAll(entry)).toString('utf8'));
      first = false;
      if (entry.header.type === 'file' && (entry.header.size ?? 0) <= SMALL_ENTRY)
        small.set(name, await readAll(entry));
      else entry.resume();
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw bundleInvalid(file, (err as Error).message);
  } finally {
    source.destroy();
    extract.destroy();
  }
  return indexDockerArchive(file, small);
}

async function loadArchive(docker: Docker, input: Readable, ctx: TaskContext): Promise<void> {
  const response = await docker.loadImage(input, { quiet: true, abortSignal: ctx.signal } as object);
  await followStream(docker, response);
}

/**
 * Loads the engine's own architecture from a bundle (version 2 or 1) and tags it as the names the
 * labs run. Returns those names.
 *
 * Errors: `bundle-not-found`, `bundle-invalid` (not a bundle, a broken manifest),
 * `bundle-wrong-architecture` (no images for the engine's architecture: nothing is loaded).
 */
export async function importBundle(docker: Docker, file: string, ctx: TaskContext): Promise<string[]> {
  const size = await assertTarFile(file);
  ctx.progress({ message: `reading ${path.basename(file)}` });
  const [index, engine] = await Promise.all([readBundleIndex(file), engineArchitecture(docker)]);
  const plan = planImport(index, engine, file);
  if (plan.action === 'refuse') throw new ApiError('bundle-wrong-architecture', plan.message, plan.hint);

  ctx.progress({
    message: `loading ${plan.architecture} from ${path.basename(file)}`,
    bytes: 0,
    totalBytes: size,
  });
  const source = createReadStream(file);
  if (plan.file === undefined) {
    const input = source.pipe(byteCounter(ctx, size));
    source.on('error', (err) => input.destroy(err));
    await loadArchive(docker, input, ctx);
  } else {
    const extract = tar.extract();
    source.pipe(extract);
    let loaded = false;
    try {
      for await (const entry of extract) {
        if (entry.header.name.replace(/^\.\//, '') !== plan.file) {
          entry.resume();
          continue;
        }
        const counter = byteCounter(ctx, size);
        const input = Readable.from(entry).pipe(counter);
        await loadArchive(docker, input, ctx);
        loaded = true;
        break;
      }
    } finally {
      source.destroy();
      extract.destroy();
    }
    if (!loaded) throw bundleInvalid(file, `${plan.file} is named in its manifest but missing`);
  }
  for (const { from, to } of plan.retag) {
    const [repo, tag] = splitName(to);
    await docker.getImage(from).tag({ repo, tag });
    await docker.getImage(from).remove({ noprune: true });
  }
  return plan.names;
}

function splitName(name: string): [string, string] {
  const at = name.lastIndexOf(':');
  if (at <= name.lastIndexOf('/')) return [name, 'latest'];
  return [name.slice(0, at), name.slice(at + 1)];
}

// ---------------------------------------------------------------------------------------

/** What an export writes for one architecture: the names the labs run and the names here. */
export interface ExportGroup {
  architecture: string;
  images: { name: string; saved: string }[];
}

/**
 * Groups images (by their name on this engine) by their architecture, read from each config:
 * the name the labs run is the name here without the `-<arch>` suffix an image of another
 * architecture than the engine's carries. Errors: `images-missing` naming the absent ones.
 */
export async function exportGroups(docker: Docker, names: string[]): Promise<ExportGroup[]> {
  const native = await engineArchitecture(docker);
  const groups = new Map<string, ExportGroup>();
  const missing: string[] = [];
  for (const saved of names) {
    const architecture = await imageArchitecture(docker, saved);
    if (!architecture) {
      missing.push(saved);
      continue;
    }
    const suffix = `-${architecture}`;
    const name = architecture !== native && saved.endsWith(suffix) ? saved.slice(0, -suffix.length) : saved;
    const group = groups.get(architecture) ?? { architecture, images: [] };
    group.images.push({ name, saved });
    groups.set(architecture, group);
  }
  if (missing.length)
    throw new ApiError(
      'images-missing',
      `cannot export: ${missing.join(', ')} not present`,
      'Run `microlab images prepare` first.',
    );
  return [...groups.values()].sort((a, b) =>
    a.architecture === native ? -1 : b.architecture === native ? 1 : 0,
  );
}

/**
 * Writes one bundle (version 2) holding `groups`, via a `.partial` file: each architecture's
 * `docker save` archive is written to a temporary folder beside the file, then packed. Returns
 * `name (arch)` for each image written.
 */
export async function writeBundle(
  docker: Docker,
  file: string,
  groups: ExportGroup[],
  ctx: TaskContext,
): Promise<string[]> {
  const target = path.resolve(file);
  const partial = `${target}.partial`;
  const work = await mkdtemp(`${target}.parts-`);
  try {
    const manifest: BundleManifest = {
      format: BUNDLE_FORMAT,
      version: 2,
      app: APP_VERSION,
      architectures: [],
    };
    for (const group of groups) {
      const part = `${group.architecture}.tar`;
      ctx.progress({
        message: `saving ${group.architecture}: ${group.images.map((i) => i.saved).join(', ')}`,
        bytes: 0,
      });
      // GET /images/get: dockerode has it, its type definitions do not.
      const withGetImages = docker as Docker & { getImages(opts: object): Promise<NodeJS.ReadableStream> };
      const stream = await withGetImages.getImages({
        names: group.images.map((i) => i.saved),
        abortSignal: ctx.signal,
      });
      await pipeline(stream, byteCounter(ctx), createWriteStream(path.join(work, part)), {
        signal: ctx.signal,
      });
      manifest.architectures.push({ architecture: group.architecture, file: part, images: group.images });
    }
    const sizes = await Promise.all(
      manifest.architectures.map(async (a) => (await stat(path.join(work, a.file))).size),
    );
    const totalBytes = sizes.reduce((sum, s) => sum + s, 0);
    ctx.progress({ message: `writing ${path.basename(target)}`, bytes: 0, totalBytes });
    const pack = tar.pack();
    const written = pipeline(pack, byteCounter(ctx, totalBytes), createWriteStream(partial), {
      signal: ctx.signal,
    });
    pack.entry({ name: BUNDLE_MANIFEST, mode: 0o644 }, `${JSON.stringify(manifest, null, 2)}\n`);
    for (const [i, archive] of manifest.architectures.entries()) {
      const entry = pack.entry({ name: archive.file, size: sizes[i]!, mode: 0o644 });
      await pipeline(createReadStream(path.join(work, archive.file)), entry, { signal: ctx.signal });
    }
    pack.finalize();
    await written;
    await rename(partial, target);
    return manifest.architectures.flatMap((a) => a.images.map((i) => `${i.name} (${a.architecture})`));
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The names this engine holds for the labs' images in `architecture` (see architectureImageName). */
export function namesFor(names: string[], architecture: string, native: string): string[] {
  return names.map((n) => architectureImageName(n, architecture, native));
}
