/**
 * `microlab export kubernetes --apply [--dry-run]`: the exported objects sent to the cluster of
 * the user's kubeconfig with Kubernetes' own client library (@kubernetes/client-node), by
 * server-side apply under the field manager `microlab`; `--dry-run` asks the API server to
 * validate and admit each object without saving it (`dryRun=All`).
 *
 * Thin on purpose: find and read the kubeconfig, check that its server answers, then one
 * apply per object, in order. Everything else is the API server's. Nothing is sent before the
 * kubeconfig has been read and its server has answered, so a missing or broken kubeconfig or an
 * unreachable server leaves the cluster untouched.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as k8sClient from '@kubernetes/client-node';
import { ApiError } from '../errors';
import { TimeoutError, withTimeout } from '../wait';

export const FIELD_MANAGER = 'microlab';

/** How long the API server has to answer `GET /version` before the cluster counts as unreachable, ms. */
export const REACH_LIMIT_MS = 10_000;

/** A Kubernetes object as the export writes it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

export interface ApplyOptions {
  dryRun: boolean;
  /** Where KUBECONFIG is read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The home directory holding .kube/config (default os.homedir()). */
  home?: string;
}

export interface ApplyReport {
  /** The kubeconfig files read, in order. */
  kubeconfig: string[];
  context: string;
  /** The API server's address. */
  server: string;
  dryRun: boolean;
  /** Every object applied (or, with dryRun, validated), as "Kind namespace/name". */
  applied: string[];
}

const describeObject = (o: KubeObject) =>
  `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

/**
 * The kubeconfig files in force, as kubectl finds them: the existing files KUBECONFIG lists
 * (separated by the platform's path delimiter), or ~/.kube/config. Throws ApiError
 * `no-kubeconfig` when there is none, saying what to set.
 */
export function findKubeconfig(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string[] {
  if (env.KUBECONFIG) {
    const listed = env.KUBECONFIG.split(path.delimiter).filter(Boolean);
    const found = listed.filter((f) => existsSync(f));
    if (found.length) return found;
    throw new ApiError(
      'no-kubeconfig',
      `export kubernetes --apply: KUBECONFIG names ${listed.join(', ')}, and no such file exists; nothing was applied.`,
      "Point KUBECONFIG at your cluster's kubeconfig (kind, k3d and minikube write one), or write the files with --out DIR and apply them with kubectl.",
    );
  }
  const standard = path.join(home, '.kube', 'config');
  if (existsSync(standard)) return [standard];
  throw new ApiError(
    'no-kubeconfig',
    `export kubernetes --apply: no kubeconfig (KUBECONFIG is not set and ${standard} does not exist), so there is no cluster to apply to; nothing was applied.`,
    "Set KUBECONFIG to your cluster's kubeconfig, or create ~/.kube/config (kind, k3d and minikube write one); or write the files with --out DIR and apply them with kubectl.",
  );
}

type Client = typeof k8sClient;

/** The kubeconfig read and checked: its current context names a cluster with a server. */
function readKubeconfig(k8s: Client, files: string[]) {
  const kc = new k8s.KubeConfig();
  for (const file of files) {
    const one = new k8s.KubeConfig();
    try {
      one.loadFromFile(file);
    } catch (err) {
      throw new ApiError(
        'kubeconfig-invalid',
        `kubeconfig ${file} cannot be read: ${(err as Error).message.split('\n')[0]}; nothing was applied.`,
        'Fix the file (kubectl config view shows what kubectl makes of it), or point KUBECONFIG at another.',
      );
    }
    try {
      // The first file's current context wins, as kubectl's merge does.
      kc.mergeConfig(one, Boolean(kc.getCurrentContext()));
    } catch (err) {
      throw new ApiError(
        'kubeconfig-invalid',
        `kubeconfig ${file}: ${(err as Error).message}; nothing was applied.`,
      );
    }
  }
  const where = files.join(', ');
  const context = kc.getCurrentContext();
  if (!context || !kc.getContextObject(context))
    throw new ApiError(
      'kubeconfig-invalid',
      `kubeconfig ${where}: ${context ? `its current context ${JSON.stringify(context)} is not among its contexts` : 'no current context'}; nothing was applied.`,
      'Pick one with kubectl config use-context NAME.',
    );
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server)
    throw new ApiError(
      'kubeconfig-invalid',
      `kubeconfig ${where}: context ${JSON.stringify(context)} names no cluster with a server address; nothing was applied.`,
      'Fix the context, or pick another with kubectl config use-context NAME.',
    );
  return { kc, context, server: cluster.server };
}

function serverMessage(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string; cause?: { message?: string } };
  let body = e.body;
  if (typeof body === 'string')
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      /* keep the text */
    }
  const status = body && typeof body === 'object' ? (body as { message?: string }).message : undefined;
  if (status) return `${e.code ? `${e.code} ` : ''}${status}`;
  if (typeof body === 'string' && body) return `${e.code ? `${e.code} ` : ''}${body}`;
  return [e.message, e.cause?.message].filter(Boolean).join(': ');
}

/**
 * Applies `objects` in order to the kubeconfig's current cluster (or, with dryRun, has the API
 * server validate them without saving), and returns what was applied where.
 *
 * Throws ApiError: `no-kubeconfig` (none found), `kubeconfig-invalid` (unreadable, no current
 * context, no server), `cluster-unreachable` (the server did not answer GET /version within
 * REACH_LIMIT_MS: nothing applied), `apply-failed` (the API server refused an object: the
 * message says which, why, and which objects before it were applied).
 */
export async function applyObjects(objects: KubeObject[], options: ApplyOptions): Promise<ApplyReport> {
  const files = findKubeconfig(options.env, options.home);
  const k8s = await import('@kubernetes/client-node');
  const { kc, context, server } = readKubeconfig(k8s, files);
  try {
    await withTimeout(kc.makeApiClient(k8s.VersionApi).getCode(), {
      what: `the API server at ${server}`,
      limitMs: REACH_LIMIT_MS,
    });
  } catch (err) {
    throw new ApiError(
      'cluster-unreachable',
      `cannot reach the cluster of context ${JSON.stringify(context)} at ${server}: ${err instanceof TimeoutError ? err.message : serverMessage(err)}; nothing was applied.`,
      'Start the cluster, or pick another context (kubectl config use-context NAME); kubectl cluster-info shows what kubectl reaches.',
    );
  }
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  const applied: string[] = [];
  for (const object of objects) {
    try {
      await client.patch(
        object,
        undefined,
        options.dryRun ? 'All' : undefined,
        FIELD_MANAGER,
        undefined,
        k8s.PatchStrategy.ServerSideApply,
      );
    } catch (err) {
      throw new ApiError(
        'apply-failed',
        `${describeObject(object)}: ${serverMessage(err)}. ${
          applied.length
            ? `${options.dryRun ? 'Validated' : 'Applied'} before it: ${applied.join(', ')}.`
            : `Nothing was ${options.dryRun ? 'validated' : 'applied'} before it.`
        }`,
        object.apiVersion.startsWith('projectcalico.org') || object.apiVersion.startsWith('cilium.io')
          ? `The cluster must serve ${object.apiVersion} ${object.kind} (Calico 3.30 or later with its API server, Cilium 1.16 or later), or export --to networkpolicy.`
          : undefined,
      );
    }
    applied.push(describeObject(object));
  }
  return { kubeconfig: files, context, server, dryRun: options.dryRun, applied };
}
