import { Handle, MarkerType, Position, ReactFlow, useNodesState } from '@xyflow/react';
import type { BuiltInEdge, Node, NodeProps } from '@xyflow/react';
import { memo, useEffect } from 'react';
import type { Call, Layout, WorkloadHealth } from '../../../electron/api/contract';
import type { PolicyShow } from '../../../electron/api/firewall';
import type { WorkloadGroup } from '../workloads';
import { tierRank } from '../workloads';

/** What decides a call: the policy's verdict, no policy, or (behind a perimeter) nothing ever sees it. */
type Verdict = PolicyShow['flows'][number]['verdict'] | 'none' | 'unseen';

type WorkloadData = {
  name: string;
  detail: string;
  health?: WorkloadHealth;
  segment: string;
  colour: number;
  browser?: boolean;
};
type WorkloadNode = Node<WorkloadData, 'workload'>;

/** As wide as `.wl` in styles.css. */
const NODE_WIDTH = 180;
/** The gap between sub-columns, the narrowest: where edges turn. */
const GAP = 56;
const SUB_COLUMN = NODE_WIDTH + GAP;
const COLUMN = NODE_WIDTH + 90;
const ROW = 76;
const PALETTE = 8;
const BROWSER = '_browser';
/** The perimeter layout's router (not a workload of the shop, so not in the status). */
export const ROUTER = 'perimeter-fw';

const nodeTypes = { workload: memo(WorkloadBox) };

/**
 * The running deployment as a graph: one node per workload, in columns by tier (the browser,
 * then the entry, the services, the databases), coloured by segment (the policy's segments
 * when one is in force, else the deployment's segment label; behind a perimeter, always the
 * segment networks). Edges are the deployment's call graph as the services report it,
 * coloured by what the policy in force decides for that call; behind a perimeter, a call
 * inside a segment never reaches the firewall, and is drawn as such. Laid out, not
 * simulated: the same deployment always looks the same.
 */
export function DeploymentGraph({
  groups,
  calls: declared,
  layout: networkLayout = 'flat',
  policy,
  storefront,
}: {
  groups: WorkloadGroup[];
  calls: Call[];
  layout?: Layout;
  policy?: PolicyShow;
  storefront?: string;
}) {
  if (groups.length === 0) {
    return <p className="placeholder">The graph appears when a deployment runs.</p>;
  }
  const deployment = groups[0]!.replicas[0]!.deployment;
  const perimeter = networkLayout === 'perimeter';
  const withPolicy = !!policy?.policy;
  const segmentOf = (g: WorkloadGroup) => {
    const fromPolicy =
      withPolicy && !perimeter ? policy.workloads.find((w) => w.name === g.name)?.segments : undefined;
    return fromPolicy ? fromPolicy.join(', ') || 'no segment' : g.segment || 'no segment';
  };
  const segments = [...new Set(groups.map(segmentOf))].sort();
  const colourOf = (segment: string) => segments.indexOf(segment) % PALETTE;

  const byName = new Map(groups.map((g) => [g.name, g]));
  const calls = declared.filter((c) => byName.has(c.src) && byName.has(c.dst));
  const layout = layOut(groups, calls);

  const nodes: WorkloadNode[] = [];
  const entry = groups.find((g) => g.entry);
  if (entry) {
    nodes.push({
      id: BROWSER,
      type: 'workload',
      position: { x: 0, y: layout.get(entry.name)!.y },
      data: {
        name: 'browser',
        detail: storefront ? storefront.replace(/^https?:\/\//, '').replace(/\/$/, '') : 'storefront',
        segment: 'outside',
        colour: -1,
        browser: true,
      },
    });
  }
  for (const g of groups) {
    const segment = segmentOf(g);
    nodes.push({
      id: g.name,
      type: 'workload',
      position: layout.get(g.name)!,
      data: { name: g.name, detail: describe(g), health: g.health, segment, colour: colourOf(segment) },
    });
  }

  const edges: BuiltInEdge[] = [];
  const at = (id: string) => (id === BROWSER ? { x: 0, y: 0 } : layout.get(id)!);
  if (entry) edges.push(edge(BROWSER, entry.name, 'none', '', at));
  let unseen = 0;
  for (const { src, dst, port } of calls) {
    const flow = policy?.flows.find((f) => f.src === src && f.dst === dst && f.port.port === port);
    const inside = perimeter && byName.get(src)!.segment === byName.get(dst)!.segment;
    const verdict: Verdict = !withPolicy ? 'none' : inside ? 'unseen' : flow ? flow.verdict : 'none';
    if (verdict === 'unseen') unseen++;
    edges.push(edge(src, dst, verdict, verdict === 'unseen' ? '' : (flow?.decision.ruleId ?? ''), at));
  }
  const rows = Math.max(...[...layout.values()].map((p) => p.y)) / ROW + 1;

  return (
    <div className="graph-wrap">
      {perimeter && <PerimeterBanner segments={segments} withPolicy={withPolicy} unseen={unseen} />}
      <div
        className={`graph ${rows > 2 ? 'graph-tall' : 'graph-short'}`}
        data-testid="deployment-graph"
        data-layout={networkLayout}
        aria-label={`Call graph of the ${deployment}${perimeter ? ' behind a perimeter firewall' : ''}`}
        role="figure"
      >
        <Canvas key={`${deployment}:${networkLayout}:${nodes.length}`} nodes={nodes} edges={edges} />
      </div>
      <Legend
        segments={segments}
        colourOf={colourOf}
        withPolicy={withPolicy}
        title={perimeter ? 'Segment networks' : withPolicy ? 'Policy segments' : 'Segment labels'}
        unseen={unseen > 0}
      />
    </div>
  );
}

/**
 * The perimeter layout's router, which the graph cannot place on any call (it sits on every
 * segment's network): what it sees, and what it does not.
 */
function PerimeterBanner({
  segments,
  withPolicy,
  unseen,
}: {
  segments: string[];
  withPolicy: boolean;
  unseen: number;
}) {
  return (
    <div className="perimeter-banner" role="note" aria-label="Perimeter firewall">
      <span className="router-badge" aria-hidden="true">
        ⇄
      </span>
      <p>
        <strong>
          One perimeter firewall, <span className="mono">{ROUTER}</span>
        </strong>
        , routes between the segment networks ({segments.join(', ')}). Only calls between segments pass
        through it;{' '}
        {withPolicy
          ? `${unseen === 1 ? '1 call stays' : `${unseen} calls stay`} inside a segment and never reach it, whatever the policy says.`
          : 'with no policy in force it lets everything pass.'}
      </p>
    </div>
  );
}

/**
 * React Flow, controlled: the nodes live in state that takes React Flow's own changes (their
 * measured sizes), and a new deployment status replaces their content but keeps those sizes.
 * Without that, fresh node objects on every status poll would lose their measurements, and
 * React Flow hides a node (and its edges) until it is measured again, which a node whose size
 * did not change never is.
 */
function Canvas({ nodes: computed, edges }: { nodes: WorkloadNode[]; edges: BuiltInEdge[] }) {
  const [nodes, setNodes, onNodesChange] = useNodesState(computed);
  // Compared by content: a poll that changes nothing changes nothing here either.
  const content = JSON.stringify(computed);
  useEffect(() => {
    const next = JSON.parse(content) as WorkloadNode[];
    setNodes((prev) =>
      next.map((n) => {
        const measured = prev.find((p) => p.id === n.id)?.measured;
        return measured ? { ...n, measured } : n;
      }),
    );
  }, [content, setNodes]);
  return (
    <ReactFlow
      nodes={nodes}
      edges={edges}
      onNodesChange={onNodesChange}
      nodeTypes={nodeTypes}
      fitView
      fitViewOptions={{ padding: 0.12, maxZoom: 1 }}
      minZoom={0.4}
      maxZoom={1.5}
      nodesDraggable={false}
      nodesConnectable={false}
      elementsSelectable={false}
      zoomOnScroll={false}
      panOnScroll={false}
      preventScrolling={false}
      colorMode="system"
    />
  );
}

function describe(g: WorkloadGroup): string {
  const parts = [g.replicas.length === 1 ? '1 replica' : `${g.replicas.length} replicas`];
  if (g.kind === 'postgres') parts.push('postgres');
  else if (g.versions.length) parts.push(g.versions.map((v) => `v${v}`).join('+'));
  return parts.join(' · ');
}

function edge(
  src: string,
  dst: string,
  verdict: Verdict,
  ruleId: string,
  at: (id: string) => { x: number },
): BuiltInEdge {
  const flagged = verdict === 'denied' || verdict === 'rejected' || verdict === 'audit';
  // Turn in the gap right after the source (empty by construction), then run along the
  // target's row.
  const span = at(dst).x - at(src).x - NODE_WIDTH;
  const stepPosition = span > 0 ? Math.min(0.5, GAP / 2 / span) : 0.5;
  return {
    id: `${src}->${dst}`,
    source: src,
    target: dst,
    type: 'smoothstep',
    pathOptions: { borderRadius: 8, offset: 12, stepPosition },
    className: `edge edge-${verdict}`,
    animated: verdict === 'audit',
    markerEnd: { type: MarkerType.ArrowClosed, width: 14, height: 14 },
    // A blocked or audited call names its rule, drawn above the nodes so none hides it.
    ...(flagged
      ? { label: ruleId, labelBgPadding: [4, 2] as [number, number], labelBgBorderRadius: 4, zIndex: 10 }
      : {}),
    data: { verdict, ruleId },
  };
}

/**
 * Where each workload goes. Columns by tier (the entry, the services, the databases); inside a
 * tier, a workload called by another of the same tier sits in a sub-column to its right (by
 * the longest chain of such calls), so every call runs left to right. Each service has a row
 * of its own and its database sits on that row; the entry is on the middle row. Calls are
 * drawn as orthogonal edges: they turn in the gaps between columns and run along the callee's
 * row, where no other node is, so no edge crosses a node.
 */
function layOut(
  groups: WorkloadGroup[],
  calls: { src: string; dst: string }[],
): Map<string, { x: number; y: number }> {
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
  return positions;
}

function WorkloadBox({ data }: NodeProps<WorkloadNode>) {
  return (
    <div
      className={`wl ${data.browser ? 'wl-browser' : `seg-${data.colour}`}`}
      aria-label={`${data.name}${data.health ? `, ${data.health}` : ''}`}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="wl-head">
        {data.health && <span className={`dot health-dot-${data.health}`} aria-hidden="true" />}
        <span className="wl-name">{data.name}</span>
      </div>
      <div className="wl-detail">
        {data.detail}
        {data.health && data.health !== 'healthy' && <span className="wl-health"> · {data.health}</span>}
      </div>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}

function Legend({
  segments,
  colourOf,
  withPolicy,
  title,
  unseen,
}: {
  segments: string[];
  colourOf: (segment: string) => number;
  withPolicy: boolean;
  title: string;
  unseen: boolean;
}) {
  return (
    <div className="legend">
      <span className="legend-title">{title}</span>
      {segments.map((s) => (
        <span key={s} className={`legend-item seg-${colourOf(s)}`}>
          <span className="swatch" aria-hidden="true" />
          {s}
        </span>
      ))}
      <span className="legend-sep" aria-hidden="true" />
      {withPolicy ? (
        <>
          <span className="legend-item edge-key edge-key-allowed">allowed</span>
          <span className="legend-item edge-key edge-key-audit">audit (would be blocked)</span>
          <span className="legend-item edge-key edge-key-denied">denied / rejected</span>
          {unseen && (
            <span className="legend-item edge-key edge-key-unseen">
              inside a segment: not seen by the firewall
            </span>
          )}
        </>
      ) : (
        <span className="legend-item muted">No policy in force: every call is allowed.</span>
      )}
    </div>
  );
}
