/**
 * The cluster the target evaluators reason about: pods with their namespace and labels, and
 * the namespaces' labels. Written from the Kubernetes documentation, independently of
 * MicroLab's firewall (the layer rule `target-semantics-stand-alone` keeps it so).
 */

export interface Pod {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  /**
   * An address outside the cluster (a browser, a host): no labels, no namespace, no policy of
   * its own; only a rule side with no selector matches it.
   */
  external?: boolean;
}

export interface Cluster {
  pods: Pod[];
  /** Labels by namespace name (Kubernetes sets kubernetes.io/metadata.name on each). */
  namespaces: Record<string, Record<string, string>>;
}

export type L4 = 'TCP' | 'UDP';

/** One connection attempt between two pods. */
export interface Flow {
  src: Pod;
  dst: Pod;
  protocol: L4;
  port: number;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

/**
 * A Kubernetes label selector (the API conventions): every matchLabels pair and every
 * expression must hold; an empty selector selects everything.
 */
export function labelSelectorMatches(
  selector: LabelSelector | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const value = labels[e.key];
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(value!)) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(value!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new Error(`unknown selector operator ${String(e.operator)}`);
    }
  }
  return true;
}

/** The objects of a YAML stream's documents that have `kind`. */
export function ofKind<T>(objects: unknown[], ...kinds: string[]): T[] {
  return objects.filter(
    (o): o is T => typeof o === 'object' && o !== null && kinds.includes((o as { kind?: string }).kind ?? ''),
  );
}
