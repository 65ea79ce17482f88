/**
 * Where the call graph's nodes go (pure: workloads and calls in, positions out).
 */
import type { WorkloadGroup } from '../workloads';
import { isNeighbour, tierRank } from '../workloads';

/** As wide as `.wl` in styles.css. */
export const NODE_WIDTH = 180;
/** The gap between sub-columns, the narrowest: where edges turn. */
export const GAP = 56;
const SUB_COLUMN = NODE_WIDTH + GAP;
const COLUMN = NODE_WIDTH + 90;
export const ROW = 76;

/**
 * Where each workload goes. Columns by tier (the entry, the services, the databases); inside a
 * tier, a workload called by another of the same tier sits in a sub-column to its right (by
 * the longest chain of such calls), so every call runs left to right. Each service has a row
 * of its own and its database sits on that row; the entry is on the middle row. Calls are
 * drawn as orthogonal edges: they turn in the gaps between columns and run along the callee's
 * row, where no other node is, so no edge crosses a node. The neighbours (jumpbox, reporting)
 * sit under the browser, each on a row of its own below the shop's.
 */
export function layOut(
  all: WorkloadGroup[],
  calls: { src: string; dst: string }[],
): Map<string, { x: number; y: number }> {
  // The neighbours call into the shop from beside it, like the browser: they go in the
  // browser's column, on rows of their own below the shop's.
  const neighbours = all.filter(isNeighbour);
  const groups = all.filter((g) => !isNeighbour(g));
  const byName = new Map(groups.map((g) => [g.name, g]));
  const depth = new Map<string, number>();
  const depthOf = (name: string, seen: Set<string> = new Set()): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 0;
    seen.add(name);
    const g = byName.get(name)!;
    const callers = calls.filter((c) => c.dst === name && byName.get(c.src)?.tier === g.tier);
    const d = Math.max(0, ...callers.map((c) => depthOf(c.src, seen) + 1));
    depth.set(name, d);
    return d;
  };
  for (const g of groups) depthOf(g.name);

  const ranks = [...new Set(groups.map((g) => tierRank(g.tier)))].sort((a, b) => a - b);
  const rankOf = (g: WorkloadGroup) => tierRank(g.tier);
  // The entry's tier is centred; with three tiers or more, the last (the databases) follows
  // the rows of its callers; every other workload has a row of its own.
  const centred = (g: WorkloadGroup) => ranks.length > 1 && rankOf(g) === ranks[0];
  const aligned = (g: WorkloadGroup) => ranks.length > 2 && rankOf(g) === ranks.at(-1);
  const rowed = groups
    .filter((g) => !centred(g) && !aligned(g))
    .sort((a, b) => depth.get(a.name)! - depth.get(b.name)! || a.name.localeCompare(b.name));
  const rowOf = new Map<string, number>();
  rowed.forEach((g, i) => rowOf.set(g.name, i));
  let spare = rowed.length;
  for (const g of groups.filter(aligned)) {
    const caller = calls.find((c) => c.dst === g.name && rowOf.has(c.src));
    rowOf.set(g.name, caller ? rowOf.get(caller.src)! : spare++);
  }
  const rows = Math.max(1, ...[...rowOf.values()].map((r) => r + 1));
  const center = ((rows - 1) / 2) * ROW;

  const positions = new Map<string, { x: number; y: number }>();
  let x = COLUMN; // column 0 is the browser
  for (const rank of ranks) {
    const tier = groups.filter((g) => rankOf(g) === rank);
    const width = Math.max(...tier.map((g) => depth.get(g.name)!));
    for (const g of tier) {
      const row = centred(g) ? undefined : rowOf.get(g.name);
      positions.set(g.name, {
        x: x + depth.get(g.name)! * SUB_COLUMN,
        y: row === undefined ? center : row * ROW,
      });
    }
    x += width * SUB_COLUMN + COLUMN;
  }
  neighbours.forEach((g, i) => positions.set(g.name, { x: 0, y: (rows + i) * ROW }));
  return positions;
}
