/**
 * The export's part of the API contract (issue 18): the shop and a policy as Kubernetes
 * manifests for Calico, Cilium or plain NetworkPolicy. Spread into `methods` in contract.ts.
 */
import { z } from 'zod';
import type { ExportFile, ExportResult, ExportTarget, Refusal } from '../export/types';
import type { DeploymentName } from '../topology/types';
import { DEPLOYMENTS, EXPORT_TARGETS } from './vocabulary';

export type { ExportFile, ExportResult, ExportTarget, Refusal };

const MAX_TEXT = 256 * 1024;
const FilePath = z.string().trim().min(1, 'a path is required').max(4096);

const ExportKubernetes = z
  .object({
    /** Default: calico (the one target that keeps MicroLab's order, logging and monitor mode). */
    target: z.enum(EXPORT_TARGETS).optional(),
    namespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a namespace is a DNS label: lower case, digits, -')
      .optional(),
    /** Prefix of the image reference, e.g. registry.example:5000 */
    registry: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,200}$/, 'a registry like registry.example:5000/team')
      .optional(),
    /** The shape to export; default: the one running. */
    deployment: z.enum(DEPLOYMENTS).optional(),
    /** A policy to export instead of the one in force (a file on this machine, or its text). */
    file: FilePath.optional(),
    text: z.string().max(MAX_TEXT, `a policy may be at most ${MAX_TEXT} bytes`).optional(),
    /** The shop only, no policy. */
    noPolicy: z.boolean().optional(),
    /** Losses accepted: see export/types.ts ExportAccepts. */
    rejectAsDeny: z.boolean().optional(),
    dropLog: z.boolean().optional(),
    dropMonitor: z.boolean().optional(),
    inClusterOnly: z.boolean().optional(),
    /** A directory to write the files into (created if missing); without it they are only returned. */
    out: FilePath.optional(),
  })
  .strict()
  .refine((s) => !(s.file !== undefined && s.text !== undefined), 'give a policy file or its text, not both')
  .refine((s) => !(s.noPolicy && (s.file !== undefined || s.text !== undefined)), 'noPolicy takes no policy');

export interface KubernetesExport extends ExportResult {
  deployment: DeploymentName;
  /** Where the policy came from: a file, inline text, the policy in force, or none. */
  policySource: string;
  /** The files written, when `out` was given (absolute paths). */
  written?: string[];
}

function method<I extends z.ZodType, O>(input: I) {
  return { input, output: undefined as unknown as O };
}

export const exportMethods = {
  /**
   * The shop (Deployments, StatefulSets with claims, Services, a Secret) and a policy (the one
   * in force unless given) as Kubernetes manifests for `target`. Throws `export-refused`,
   * naming each construct the target cannot express and the option that accepts its loss;
   * `not-deployed` when nothing runs and no deployment is named.
   */
  'export:kubernetes': method<typeof ExportKubernetes, KubernetesExport>(ExportKubernetes),
} as const;
