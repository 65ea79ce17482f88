/**
 * What the engine layer reports: doctor's checks, the engine's endpoint, images and the
 * project's labeled resources. Plain data; the API contract carries these types unchanged.
 */

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface DoctorCheck {
  id: 'engine' | 'version' | 'host' | 'memory' | 'architecture' | 'disk' | 'images' | 'nftables' | 'subnets';
  title: string;
  status: CheckStatus;
  /** One line: what was found. */
  summary: string;
  /** Facts behind the summary, shown as a small table. */
  details?: Record<string, string>;
  /** What to do about a warn or fail, for the user's platform. */
  hint?: string;
}

export interface EngineEndpoint {
  /** How dockerode reaches it: a unix socket or named pipe path, or a tcp/ssh URL. */
  address: string;
  /** How it was found: "DOCKER_HOST", "docker context colima", "default socket", ... */
  source: string;
}

export interface DoctorReport {
  ok: boolean;
  endpoint?: EngineEndpoint;
  checks: DoctorCheck[];
  platform: string;
}

export interface ImageInfo {
  /** repository:tag, e.g. microlab/base:0.1.0 */
  name: string;
  role: string;
  present: boolean;
  id?: string;
  sizeBytes?: number;
  created?: string;
  /** Its architecture as its config records it (`amd64`, `arm64`): the engine runs only its own natively. */
  architecture?: string;
  /** Whether the labs need it (and so whether `images prepare` provides it). */
  required: boolean;
}

export interface LabeledResource {
  kind: 'container' | 'network' | 'volume' | 'image';
  id: string;
  name: string;
  project: string;
  role?: string;
  workload?: string;
  state?: string;
}

export interface StatusReport {
  endpoint: EngineEndpoint;
  /** The product behind the endpoint, from its `GET /version` reply. */
  engineName: 'Docker' | 'Podman';
  engineVersion: string;
  project: string;
  images: ImageInfo[];
  resources: LabeledResource[];
}

/**
 * What a cleanup removed, and what it could not remove: `error` says why in MicroLab's words
 * (a network still used by a container MicroLab did not start names that container), `hint`
 * what to do.
 */
export interface DownReport {
  removed: LabeledResource[];
  failed: { resource: LabeledResource; error: string; hint?: string }[];
}

/** The architectures MicroLab builds lab images for, in Docker's spelling. */
export const ARCHITECTURES = ['amd64', 'arm64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];
