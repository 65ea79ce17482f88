/**
 * CPU architectures, in Docker's and Debian's spelling (`amd64`, `arm64`): the engine's, each
 * image's, and the names an image of another architecture than the engine's carries here.
 *
 * An image of another architecture runs only under emulation (QEMU user mode through
 * binfmt_misc), where nftables does not work: QEMU refuses NETLINK_NETFILTER ("Failed to
 * initialize nft: Protocol not supported"; multiarch/qemu-user-static#191, docker/for-mac#6297).
 * So every engine runs its own architecture's lab images, under the names the labs use.
 */
import type Docker from 'dockerode';
import { ApiError } from '../errors';

import { ARCHITECTURES } from './types';
import type { Architecture } from './types';

export { ARCHITECTURES };
export type { Architecture };

const ALIASES: Record<string, Architecture> = {
  amd64: 'amd64',
  x86_64: 'amd64',
  'x86-64': 'amd64',
  x64: 'amd64',
  arm64: 'arm64',
  aarch64: 'arm64',
  'arm64/v8': 'arm64',
};

/**
 * Docker's name for an architecture as an engine, a kernel (`uname -m`), Node (`process.arch`)
 * or an image config spells it: `x86_64` and `x64` are `amd64`, `aarch64` is `arm64`. Anything
 * else is returned as it is (lower case), so that a report can still name it.
 */
export function normalizeArchitecture(name: string): string {
  const lower = name.trim().toLowerCase();
  return ALIASES[lower] ?? lower;
}

export function isArchitecture(name: string): name is Architecture {
  return (ARCHITECTURES as readonly string[]).includes(name);
}

/**
 * Parses a comma-separated list such as `amd64,arm64` (aliases accepted), in order, without
 * repeats. Errors: `invalid-input` naming the entry that is not an architecture MicroLab builds.
 */
export function parseArchitectures(list: string): Architecture[] {
  const result: Architecture[] = [];
  for (const entry of list.split(',').map((s) => s.trim())) {
    const arch = normalizeArchitecture(entry);
    if (!isArchitecture(arch))
      throw new ApiError(
        'invalid-input',
        `--arch: ${JSON.stringify(entry)} is not an architecture MicroLab builds (${ARCHITECTURES.join(', ')})`,
      );
    if (!result.includes(arch)) result.push(arch);
  }
  return result;
}

/** This machine's architecture, as Docker names it. */
export function hostArchitecture(): string {
  return normalizeArchitecture(process.arch);
}

/**
 * The engine's architecture (`GET /version`'s `Arch`, which Docker and Podman both report, as
 * `amd64` or `arm64`): the one its containers run natively, and so the one its lab images need.
 */
export async function engineArchitecture(docker: Docker): Promise<string> {
  const version = await docker.version();
  return normalizeArchitecture(version.Arch);
}

/**
 * The name MicroLab gives an image of `arch` beside the engine's own: the engine's own
 * architecture keeps the labs' name (`microlab/base:0.1.0`), another gets its architecture as
 * a tag suffix (`microlab/base:0.1.0-arm64`). A tag suffix, not a repository of its own, keeps
 * every lab image in the repositories cleanup and `images ls` know; Docker's classic image store
 * holds one image per name, so two architectures need two names there. A name that ends with
 * the suffix already is returned as it is.
 */
export function architectureImageName(name: string, arch: string, native: string): string {
  // A name that already carries the suffix (MICROLAB_SHOP_IMAGE naming the arm64 shop) keeps it.
  return arch === native || name.endsWith(`-${arch}`) ? name : `${name}-${arch}`;
}

/**
 * An image's architecture from its config (`docker image inspect`'s `Architecture`), or
 * undefined when the engine has no image of that name.
 */
export async function imageArchitecture(docker: Docker, name: string): Promise<string | undefined> {
  try {
    return normalizeArchitecture((await docker.getImage(name).inspect()).Architecture);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}
