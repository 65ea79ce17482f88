/**
 * The domain's vocabulary, as every client of the API names it: the deployments, layouts,
 * modes, verdicts, load scenarios, export targets and the labs' words. Each list is declared
 * once, by the lowest layer that owns it (the topology, the firewall, the load generator, the
 * exporter; the labs' own words here), and carried here unchanged; the contract re-exports it.
 *
 * Plain values only: no zod, nothing that pulls a schema in. The renderer imports its values
 * from this module (and the transports' plain modules), never from contract.ts, so its bundle
 * holds no validator (.dependency-cruiser.cjs `renderer-values-from-plain-modules`,
 * test/unit/renderer-bundle.test.ts).
 */
import { DEFAULT_MIX, SCENARIOS } from '../../labs/shop/src/loadgen/stats';
import { EXPORT_TARGETS } from '../export/types';
import { ACTIONS, MODES, VERDICTS } from '../firewall/vocabulary';
import { DEPLOYMENTS, LAYOUTS } from '../topology/types';
import type { Action, Mode, Verdict } from '../firewall/vocabulary';
import type { DeploymentName, Layout } from '../topology/types';

export { ACTIONS, DEPLOYMENTS, EXPORT_TARGETS, LAYOUTS, MODES, VERDICTS };
export type { Action, DeploymentName, Layout, Mode, Verdict };
/** The load generator's scenarios and its default mix (scenarios started per second, relative). */
export { DEFAULT_MIX as DEFAULT_LOAD_MIX, SCENARIOS as LOAD_SCENARIOS };

/** The 2×2's rows: the application's architecture, which is the deployment that runs. */
export const LAB_APPS = DEPLOYMENTS;
export type LabApp = DeploymentName;
/** The 2×2's columns (and the perimeter beside them): the network's architecture. */
export const LAB_NETWORKS = ['flat', 'segmented', 'perimeter'] as const;
export type LabNetwork = (typeof LAB_NETWORKS)[number];
/**
 * The two attackers every quadrant measures, so that the 2×2 compares like with like:
 * `jumpbox`, the stolen operator laptop (what it finds: the operator's ~/.pgpass), and
 * `catalog-code`, compromised shop code: the workload that runs the catalog's code (the
 * monolith's app, or the catalog service; what it finds: its own environment).
 */
export const LAB_ATTACKERS = ['jumpbox', 'catalog-code'] as const;
export type LabAttacker = (typeof LAB_ATTACKERS)[number];

/**
 * The kinds of a check's result: each check kind of the lab format (electron/labs/checks/,
 * where each is defined), and `predict`, the result a step's unanswered predictions give.
 */
export const LAB_CHECK_KINDS = [
  'deployment',
  'replicas',
  'unchanged',
  'policy',
  'flow',
  'blast-radius',
  'counter',
  'flow-log',
  'load',
  'policy-file',
  'quiz',
  'predict',
] as const;
export type LabCheckKind = (typeof LAB_CHECK_KINDS)[number];

/** The live views a step can ask for beside its guide. */
export const LAB_VIEWS = ['graph', 'matrix', 'flows', 'terminal', 'load', 'editor', 'counters'] as const;
export type LabView = (typeof LAB_VIEWS)[number];

/** What a credential found where a workload stands carries (lab 1's password, say). */
export const FOUND_FIELDS = ['password', 'user', 'host'] as const;
export type FoundField = (typeof FOUND_FIELDS)[number];
