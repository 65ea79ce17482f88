import { Handle, MarkerType, Position, ReactFlow, useNodesState } from '@xyflow/react';
import type { BuiltInEdge, Node, NodeProps } from '@xyflow/react';
import { memo, useEffect } from 'react';
import type { Call, Layout, WorkloadHealth } from '../../../electron/api/contract';
import type { BlastRadius, PolicyShow } from '../../../electron/api/firewall';
import type { WorkloadGroup } from '../workloads';
import { GAP, layOut, NODE_WIDTH, ROW } from './graph-layout';

/** What decides a call: the policy's verdict, no policy, or (behind a perimeter) nothing ever sees it. */
type Verdict = PolicyShow['flows'][number]['verdict'] | 'none' | 'unseen';

type WorkloadData = {
  name: string;
  detail: string;
  health?: WorkloadHealth;
  segment: string;
  colour: number;
  browser?: boolean;
  /** With a compromised workload: it, what it reaches (observed), or out of its reach. */
  blast?: 'source' | 'reached' | 'dim';
};
type WorkloadNode = Node<WorkloadData, 'workload'>;

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
 *
 * With a `blast` radius (a workload picked as compromised), the workloads it reaches, as
 * probes from inside it observed, light up with an edge from it to each; the rest greys out.
 * A click on a workload calls `onPick` with its name.
 */
export function DeploymentGraph({
  groups,
  calls: declared,
  layout: networkLayout = 'flat',
  policy,
  storefront,
  blast,
  onPick,
}: {
  groups: WorkloadGroup[];
  calls: Call[];
  layout?: Layout;
  policy?: PolicyShow;
  storefront?: string;
  blast?: BlastRadius;
  onPick?: (workload: string) => void;
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
  const reached = new Set(blast?.observed.reached);
  const blastOf = (name: string): WorkloadData['blast'] =>
    !blast ? undefined : name === blast.source ? 'source' : reached.has(name) ? 'reached' : 'dim';

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
        ...(blast ? { blast: 'dim' as const } : {}),
      },
    });
  }
  for (const g of groups) {
    const segment = segmentOf(g);
    nodes.push({
      id: g.name,
      type: 'workload',
      position: layout.get(g.name)!,
      data: {
        name: g.name,
        detail: describe(g),
        health: g.health,
        segment,
        colour: colourOf(segment),
        ...(blast ? { blast: blastOf(g.name) } : {}),
      },
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
  if (blast) {
    for (const e of edges) e.className += ' edge-dim';
    for (const dst of blast.observed.reached) {
      if (!byName.has(dst) || !byName.has(blast.source)) continue;
      const flows = blast.flows.filter((f) => f.workload === dst);
      edges.push({
        id: `blast:${blast.source}->${dst}`,
        source: blast.source,
        target: dst,
        className: `edge edge-reach${flows.some((f) => !f.match) ? ' edge-reach-mismatch' : ''}`,
        zIndex: 5,
        markerEnd: { type: MarkerType.ArrowClosed, width: 14, height: 14 },
        data: { ports: flows.filter((f) => f.observed === 'connected').map((f) => f.port.port) },
      });
    }
  }
  const rows = Math.max(...[...layout.values()].map((p) => p.y)) / ROW + 1;

  return (
    <div className="graph-wrap">
      {perimeter && <PerimeterBanner segments={segments} withPolicy={withPolicy} unseen={unseen} />}
      <div
        className={`graph ${rows > 2 ? 'graph-tall' : 'graph-short'}`}
        data-testid="deployment-graph"
        data-layout={networkLayout}
        {...(blast ? { 'data-compromised': blast.source } : {})}
        aria-label={`Call graph of the ${deployment}${perimeter ? ' behind a perimeter firewall' : ''}`}
        role="figure"
      >
        <Canvas
          key={`${deployment}:${networkLayout}:${nodes.length}`}
          nodes={nodes}
          edges={edges}
          {...(onPick ? { onPick } : {})}
        />
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
function Canvas({
  nodes: computed,
  edges,
  onPick,
}: {
  nodes: WorkloadNode[];
  edges: BuiltInEdge[];
  onPick?: (workload: string) => void;
}) {
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
      {...(onPick ? { onNodeClick: (_: unknown, n: WorkloadNode) => n.id !== BROWSER && onPick(n.id) } : {})}
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
  else if (g.kind === 'tool') parts.push(g.tier === 'ops' ? 'operator' : 'tools');
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

function WorkloadBox({ data }: NodeProps<WorkloadNode>) {
  return (
    <div
      className={`wl ${data.browser ? 'wl-browser' : `seg-${data.colour}`}${data.blast ? ` wl-blast-${data.blast}` : ''}`}
      aria-label={`${data.name}${data.health ? `, ${data.health}` : ''}`}
      {...(data.blast ? { 'data-blast': data.blast } : {})}
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
