/**
 * What the Kubernetes export takes and gives, and how it refuses what a target cannot say.
 * Plain data: the services, the CLI and the UI share these shapes through the API contract.
 */
import { ApiError } from '../errors';

export const EXPORT_TARGETS = ['calico', 'cilium', 'networkpolicy'] as const;
export type ExportTarget = (typeof EXPORT_TARGETS)[number];

/** The losses a user may accept, one flag each (the CLI's --reject-as-deny, --drop-log, ...). */
export interface ExportAccepts {
  /** reject becomes deny: the peer's connection times out instead of being refused at once. */
  rejectAsDeny?: boolean;
  /** rules' `log: true` (the default) are dropped: no flow log from the policy itself. */
  dropLog?: boolean;
  /** workloads in monitor mode get no policy: their would-be denials pass unreported. */
  dropMonitor?: boolean;
  /** `any` keeps only the shop's own workloads: traffic to or from outside the cluster is denied. */
  inClusterOnly?: boolean;
}

/** The command-line option that accepts each loss. */
export const ACCEPT_OPTION: Record<keyof ExportAccepts, string> = {
  rejectAsDeny: '--reject-as-deny',
  dropLog: '--drop-log',
  dropMonitor: '--drop-monitor',
  inClusterOnly: '--in-cluster-only',
};

/** One construct of the policy a target cannot express, where it is, and the option that accepts the loss. */
export interface Refusal {
  construct: 'reject' | 'log' | 'monitor' | 'any-outside';
  /** The rules, segments or workloads concerned. */
  where: string[];
  message: string;
  option: keyof ExportAccepts;
}

export class ExportRefused extends ApiError {
  readonly refusals: Refusal[];

  constructor(target: ExportTarget, refusals: Refusal[]) {
    super(
      'export-refused',
      refusals.map((r) => `${target}: ${r.message}`).join('\n'),
      `Accept the loss with ${[...new Set(refusals.map((r) => ACCEPT_OPTION[r.option]))].join(', ')}, or change the policy.`,
    );
    this.name = 'ExportRefused';
    this.refusals = refusals;
  }
}

/** One file of an export: its name (relative, e.g. "shop/catalog.yaml") and YAML text. */
export interface ExportFile {
  name: string;
  text: string;
}

export interface ExportResult {
  target: ExportTarget;
  namespace: string;
  files: ExportFile[];
  /** What the reader should know: the losses accepted, the choices made. */
  notes: string[];
}
