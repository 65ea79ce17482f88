/**
 * The shop as Kubernetes manifests, from the same declaration `microlab up` applies
 * (topology/declarations.ts): per app or tool workload a Deployment, per database a
 * StatefulSet with a PersistentVolumeClaim, a Service for every workload that serves a port,
 * one Secret for the database password. Pure: objects in, objects out.
 *
 * Pods carry MicroLab's selector labels (app, service, tier, segment) unchanged, so the
 * policy's selectors mean the same thing, plus `microlab.io/workload`, the workload's name
 * (what `{ workload: NAME }` peers and the flattened targets select on).
 */
import type { Deployment, HealthCheck, WorkloadSpec } from '../topology/declarations';
import { DB_PASSWORD, POSTGRES_PORT } from '../topology/declarations';
import type { Workload } from '../topology/workload';

/** The pod label that names the workload. */
export const WORKLOAD_KEY = 'microlab.io/workload';
export const SECRET_NAME = 'microlab-db';
export const DEFAULT_NAMESPACE = 'microlab';
/** The image the shop runs in every workload (labs/images/shop), without a registry. */
export const SHOP_IMAGE = 'microlab/shop:0.1.0';
const DATA_DIR = '/var/lib/microlab/postgres';

export type Manifest = Record<string, unknown>;

export interface ShopOptions {
  namespace: string;
  /** Prepended to the image ("registry.example:5000" gives registry.example:5000/microlab/shop:0.1.0). */
  registry?: string;
  /** Replicas and versions of the running deployment, by workload; the declaration's otherwise. */
  replicas?: Record<string, number>;
  versions?: Record<string, string>;
  /** The database password; absent, the Secret holds a placeholder to replace. */
  dbPassword?: string;
}

/** The workloads of a declaration as the firewall sees them (name, selector labels, ports). */
export function inventoryOf(deployment: Deployment): Workload[] {
  return deployment.workloads.map((w) => ({ name: w.name, labels: { ...w.labels }, ports: w.ports }));
}

/** A pod's labels: the selector labels and the workload's name. */
export function podLabels(w: { name: string; labels: Record<string, string> }): Record<string, string> {
  return { ...w.labels, [WORKLOAD_KEY]: w.name };
}

function image(registry: string | undefined): string {
  return registry ? `${registry.replace(/\/+$/, '')}/${SHOP_IMAGE}` : SHOP_IMAGE;
}

const seconds = (ms: number) => Math.max(1, Math.round(ms / 1000));

/** Docker's health check as a readiness probe: curl of a local URL becomes httpGet, anything else exec. */
export function readinessProbe(health: HealthCheck): Manifest {
  const timing = {
    periodSeconds: seconds(health.intervalMs),
    timeoutSeconds: seconds(health.timeoutMs),
    failureThreshold: health.retries,
  };
  const [kind, ...command] = health.test;
  const url = command[0] === 'curl' ? command.find((a) => /^https?:\/\//.test(a)) : undefined;
  const parsed = url ? new URL(url) : undefined;
  if (parsed && (parsed.hostname === '127.0.0.1' || parsed.hostname === 'localhost'))
    return { httpGet: { path: parsed.pathname, port: Number(parsed.port) }, ...timing };
  return {
    exec: { command: kind === 'CMD-SHELL' ? ['sh', '-c', command.join(' ')] : command },
    ...timing,
  };
}

/**
 * Environment: the password comes from the Secret, as DB_PASSWORD, first; Kubernetes expands
 * `$(DB_PASSWORD)` in the later values and in the command (the jumpbox's ~/.pgpass).
 */
function env(w: WorkloadSpec, version: string | undefined): Manifest[] {
  const vars: Manifest[] = [];
  const usesPassword = [...Object.values(w.env), ...(w.command ?? [])].some((v) => v.includes(DB_PASSWORD));
  if (usesPassword)
    vars.push({ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: SECRET_NAME, key: 'password' } } });
  for (const [name, value] of Object.entries(w.env)) {
    const v = name === 'SHOP_VERSION' && version ? version : value;
    vars.push({ name, value: v.split(DB_PASSWORD).join('$(DB_PASSWORD)') });
  }
  return vars;
}

/**
 * The command, with the password from the Secret. A workload declared to run as a named user of
 * the image (Postgres as `postgres`, whose uid the image's packages chose) starts as root and
 * switches with `su`, as Kubernetes takes only numeric users.
 */
function command(w: WorkloadSpec): Manifest {
  if (!w.command) return {};
  const cmd = w.command.map((c) => c.split(DB_PASSWORD).join('$(DB_PASSWORD)'));
  if (!w.user) return { command: cmd };
  const script =
    cmd[0] === 'sh' && cmd[1] === '-c' ? cmd[2]! : cmd.map((c) => `'${c.replace(/'/g, `'\\''`)}'`).join(' ');
  return {
    command: ['su', w.user, '-s', '/bin/sh', '-c', script],
    securityContext: { runAsUser: 0 },
  };
}

function container(w: WorkloadSpec, options: ShopOptions): Manifest {
  return {
    name: w.name,
    image: image(options.registry),
    ...command(w),
    env: env(w, options.versions?.[w.name]),
    ...(w.ports.length
      ? {
          ports: w.ports.map((p) => ({ containerPort: p.port, protocol: p.protocol.toUpperCase() })),
        }
      : {}),
    readinessProbe: readinessProbe(w.health),
    resources: {
      limits: { memory: `${w.resources.memoryMb}Mi`, cpu: String(w.resources.cpus) },
    },
  };
}

function meta(name: string, options: ShopOptions, labels: Record<string, string>): Manifest {
  return { name, namespace: options.namespace, labels };
}

function deploymentOf(w: WorkloadSpec, options: ShopOptions): Manifest {
  const labels = podLabels(w);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(w.name, options, labels),
    spec: {
      replicas: options.replicas?.[w.name] ?? w.replicas,
      selector: { matchLabels: { [WORKLOAD_KEY]: w.name } },
      template: {
        metadata: { labels },
        spec: { containers: [container(w, options)] },
      },
    },
  };
}

/**
 * A database: a StatefulSet whose claim holds Postgres's data directory. The image ships an
 * initialised directory; an init container copies it onto an empty claim first.
 */
function statefulSetOf(w: WorkloadSpec, options: ShopOptions): Manifest {
  const labels = podLabels(w);
  const main = container(w, options);
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(w.name, options, labels),
    spec: {
      serviceName: w.name,
      replicas: 1,
      selector: { matchLabels: { [WORKLOAD_KEY]: w.name } },
      template: {
        metadata: { labels },
        spec: {
          initContainers: [
            {
              name: 'seed-data',
              image: image(options.registry),
              // Postgres wants its directory its own and closed (0700).
              command: [
                'sh',
                '-c',
                `test -s /seed/PG_VERSION || cp -a ${DATA_DIR}/. /seed/; chown ${w.user ?? 'postgres'}: /seed && chmod 700 /seed`,
              ],
              securityContext: { runAsUser: 0 },
              volumeMounts: [{ name: 'data', mountPath: '/seed' }],
            },
          ],
          containers: [{ ...main, volumeMounts: [{ name: 'data', mountPath: DATA_DIR }] }],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels: { [WORKLOAD_KEY]: w.name } },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      ],
    },
  };
}

function serviceOf(w: WorkloadSpec, options: ShopOptions): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(w.name, options, podLabels(w)),
    spec: {
      selector: { [WORKLOAD_KEY]: w.name },
      ports: w.ports.map((p) => ({
        name: `${p.protocol}-${p.port}`,
        port: p.port,
        targetPort: p.port,
        protocol: p.protocol.toUpperCase(),
      })),
    },
  };
}

/** Every manifest of the shop, by workload: [file name, objects]. The namespace and Secret first. */
export function shopManifests(deployment: Deployment, options: ShopOptions): [string, Manifest[]][] {
  const files: [string, Manifest[]][] = [
    [
      'namespace.yaml',
      [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: options.namespace } },
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: SECRET_NAME, namespace: options.namespace },
          type: 'Opaque',
          stringData: { password: options.dbPassword ?? 'REPLACE-ME' },
        },
      ],
    ],
  ];
  for (const w of deployment.workloads) {
    const isDb = w.kind === 'postgres' && w.ports.some((p) => p.port === POSTGRES_PORT);
    const objects = [isDb ? statefulSetOf(w, options) : deploymentOf(w, options)];
    if (w.ports.length) objects.push(serviceOf(w, options));
    files.push([`shop/${w.name}.yaml`, objects]);
  }
  return files;
}
