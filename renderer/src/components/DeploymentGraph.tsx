import { Handle, MarkerType, Position, ReactFlow } from '@xyflow/react';
import type { Edge, Node, NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { WorkloadHealth } from '../../../electron/api/contract';
import type { PolicyShow } from '../../../electron/api/firewall';
import { deployments } from '../../../electron/topology/declarations';
import type { WorkloadGroup } from '../workloads';
import { tierRank } from '../workloads';

type Verdict = PolicyShow['flows'][number]['verdict'] | 'none';

type WorkloadData = {
  name: string;
  detail: string;
  health?: WorkloadHealth;
  segment: string;
  colour: number;
  browser?: boolean;
};
type WorkloadNode = Node<WorkloadData, 'workload'>;

const COLUMN = 290;
const ROW = 76;
const PALETTE = 8;
const BROWSER = '_browser';

const nodeTypes = { workload: memo(WorkloadBox) };

/**
 * The running deployment as a graph: one node per workload, in columns by tier (the browser,
 * then the entry, the services, the databases), coloured by segment (the policy's segments
 * when one is in force, else the deployment's segment label). Edges are the shop's call graph,
 * coloured by what the policy in force decides for that call. Laid out, not simulated: the
 * same deployment always looks the same.
 */
export function DeploymentGraph({
  groups,
  policy,
  storefront,
}: {
  groups: WorkloadGroup[];
  policy?: PolicyShow;
  storefront?: string;
}) {
  if (groups.length === 0) {
    return <p className="placeholder">The graph appears when a deployment runs.</p>;
  }
  const deployment = groups[0]!.replicas[0]!.deployment;
  const segmentOf = (g: WorkloadGroup) => {
    const fromPolicy = policy?.policy ? policy.workloads.find((w) => w.name === g.name)?.segments : undefined;
    return fromPolicy ? fromPolicy.join(', ') || 'no segment' : g.segment || 'no segment';
  };
  const segments = [...new Set(groups.map(segmentOf))].sort();
  const colourOf = (segment: string) => segments.indexOf(segment) % PALETTE;

  // Columns: the browser, then each tier present, left to right.
  const ranks = [...new Set(groups.map((g) => tierRank(g.tier)))].sort((a, b) => a - b);
  const columns: WorkloadGroup[][] = ranks.map((r) =>
    groups
      .filter((g) => tierRank(g.tier) === r)
      .sort(
        (a, b) =>
          (a.labels.service ?? '').localeCompare(b.labels.service ?? '') || a.name.localeCompare(b.name),
      ),
  );
  const tallest = Math.max(...columns.map((c) => c.length));
  const y = (index: number, count: number) => ((tallest - count) / 2 + index) * ROW;

  const nodes: WorkloadNode[] = [];
  const entry = groups.find((g) => g.entry);
  if (entry) {
    nodes.push({
      id: BROWSER,
      type: 'workload',
      position: { x: 0, y: y(0, 1) },
      data: {
        name: 'browser',
        detail: storefront ? storefront.replace(/^https?:\/\//, '').replace(/\/$/, '') : 'storefront',
        segment: 'outside',
        colour: -1,
        browser: true,
      },
    });
  }
  columns.forEach((column, c) =>
    column.forEach((g, i) => {
      const segment = segmentOf(g);
      nodes.push({
        id: g.name,
        type: 'workload',
        position: { x: (c + 1) * COLUMN, y: y(i, column.length) },
        data: {
          name: g.name,
          detail: describe(g),
          health: g.health,
          segment,
          colour: colourOf(segment),
        },
      });
    }),
  );

  const running = new Set(groups.map((g) => g.name));
  const declared = deployments[deployment];
  const edges: Edge[] = [];
  if (entry) edges.push(edge(BROWSER, entry.name, undefined, 'none', ''));
  for (const spec of declared.workloads) {
    if (!running.has(spec.name)) continue;
    for (const dst of spec.dependsOn) {
      if (!running.has(dst)) continue;
      const port = declared.workloads.find((w) => w.name === dst)?.ports[0]?.port;
      const flow = policy?.flows.find((f) => f.src === spec.name && f.dst === dst && f.port.port === port);
      const verdict: Verdict = policy?.policy && flow ? flow.verdict : 'none';
      edges.push(edge(spec.name, dst, port, verdict, flow?.decision.ruleId ?? ''));
    }
  }

  return (
    <div className="graph-wrap">
      <div
        className={`graph ${tallest > 2 ? 'graph-tall' : 'graph-short'}`}
        data-testid="deployment-graph"
        aria-label={`Call graph of the ${deployment}`}
        role="figure"
      >
        <ReactFlow
          key={`${deployment}:${nodes.length}`}
          nodes={nodes}
          edges={edges}
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
      </div>
      <Legend segments={segments} colourOf={colourOf} withPolicy={!!policy?.policy} />
    </div>
  );
}

function describe(g: WorkloadGroup): string {
  const parts = [g.replicas.length === 1 ? '1 replica' : `${g.replicas.length} replicas`];
  if (g.kind === 'postgres') parts.push('postgres');
  else if (g.versions.length) parts.push(g.versions.map((v) => `v${v}`).join('+'));
  return parts.join(' · ');
}

function edge(src: string, dst: string, port: number | undefined, verdict: Verdict, ruleId: string): Edge {
  const blocked = verdict === 'denied' || verdict === 'rejected';
  return {
    id: `${src}->${dst}`,
    source: src,
    target: dst,
    className: `edge edge-${verdict}`,
    animated: verdict === 'audit',
    markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
    ...(blocked || verdict === 'audit'
      ? {
          label: `${verdict} · ${ruleId}`,
          labelBgPadding: [4, 2] as [number, number],
          labelBgBorderRadius: 4,
        }
      : port
        ? { label: `:${port}`, labelBgPadding: [3, 1] as [number, number], labelBgBorderRadius: 3 }
        : {}),
    data: { verdict, ruleId },
  };
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
}: {
  segments: string[];
  colourOf: (segment: string) => number;
  withPolicy: boolean;
}) {
  return (
    <div className="legend">
      <span className="legend-title">{withPolicy ? 'Policy segments' : 'Segment labels'}</span>
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
        </>
      ) : (
        <span className="legend-item muted">No policy in force: every call is allowed.</span>
      )}
    </div>
  );
}
