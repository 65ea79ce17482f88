/**
 * Labels own everything: every container, network, volume and image MicroLab creates carries
 * these, and cleanup removes what carries them and nothing else.
 */
import pkg from '../../package.json';

export const LABEL = {
  project: 'io.microlab.project',
  role: 'io.microlab.role',
  workload: 'io.microlab.workload',
  version: 'io.microlab.version',
  /** Set on throwaway containers (doctor probes): reconcile removes them on start. */
  transient: 'io.microlab.transient',
} as const;

export const APP_VERSION: string = pkg.version;

/** The project name scopes every labeled resource. Tests run in projects of their own. */
export function currentProject(env: NodeJS.ProcessEnv = process.env): string {
  const name = env.MICROLAB_PROJECT ?? 'microlab';
  if (!/^[a-z0-9][a-z0-9_.-]{0,62}$/.test(name)) {
    throw new Error(`MICROLAB_PROJECT=${JSON.stringify(name)} is not a valid project name (a-z, 0-9, _ . -)`);
  }
  return name;
}

export function labelsFor(
  project: string,
  role: string,
  extra: { workload?: string; transient?: boolean } = {},
): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL.project]: project,
    [LABEL.role]: role,
    [LABEL.version]: APP_VERSION,
  };
  if (extra.workload) labels[LABEL.workload] = extra.workload;
  if (extra.transient) labels[LABEL.transient] = 'true';
  return labels;
}

/**
 * Images carry labels of their own kind. A container inherits every label of its image, so an
 * image labeled `io.microlab.project` would make any container started from it by hand look
 * like ours (and `down` would remove it). Container ownership is set only at create time.
 */
export const IMAGE_LABEL = {
  project: 'io.microlab.image.project',
  role: 'io.microlab.image.role',
  version: 'io.microlab.image.version',
  /** A hash of what the image was built from: a changed source is rebuilt, an unchanged one is not. */
  source: 'io.microlab.image.source',
} as const;

/** The labels of an image MicroLab builds (`role`: base, shop). */
export function imageLabelsFor(role: string, source?: string): Record<string, string> {
  return {
    [IMAGE_LABEL.project]: 'microlab',
    [IMAGE_LABEL.role]: role,
    [IMAGE_LABEL.version]: APP_VERSION,
    ...(source ? { [IMAGE_LABEL.source]: source } : {}),
  };
}

/** A Docker list filter that selects one project's resources. */
export function projectFilter(project: string): { label: string[] } {
  return { label: [`${LABEL.project}=${project}`] };
}
