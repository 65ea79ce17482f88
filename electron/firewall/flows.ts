/**
 * The flow log: one event per new connection, with the rule that decided it.
 *
 * Each table marks new connections for tracing (compile.ts, `TRACE_NEW` in its ingress and
 * egress chains; tables loaded before it had chains trace_in/trace_out of their own) and
 * each sidecar's main process is `nft monitor trace`, so the sidecar's log holds, per traced
 * packet, its addresses and ports and the rule that ended its way through our ingress or
 * egress chain, comment included ("<rule id> <action>[ audit][ nolog]"). This module reads
 * those logs (history, or following) and turns them into events.
 *
 * A connection between two workloads with tables is seen twice (the source's egress and the
 * destination's ingress); `mergeFlows` keeps one event per connection, the most decisive.
 */
import type Docker from 'dockerode';
import { demux, demuxBuffer, lines } from '../engine/streams';
import type { Verdict } from './evaluate';
import { parseRuleComment, TABLE } from './compile';
import { parseCutLine } from './cut';
import { addressBook, listInstances } from './instances';
import type { Sidecar } from './sidecar';
import { listSidecars } from './sidecar';
import { PERIMETER_TABLE } from './perimeter';
import { findRouter } from './perimeter-router';
import { ROUTER } from '../topology/perimeter';
import { sleep } from '../wait';

/** Where traces are logged: every firewall sidecar, and the perimeter router if there is one. */
async function traceSources(docker: Docker, project: string): Promise<Sidecar[]> {
  const [sidecars, router] = await Promise.all([listSidecars(docker, project), findRouter(docker, project)]);
  if (!router) return sidecars;
  return [
    ...sidecars,
    {
      id: router.Id,
      name: router.Names[0]?.replace(/^\//, '') ?? router.Id,
      target: router.Id,
      holder: false,
      workload: ROUTER,
      running: router.State === 'running',
    },
  ];
}

export interface FlowEvent {
  time: string;
  /** The workload whose table decided (the sidecar that saw it), or the perimeter router. */
  seenBy: string;
  /** forward: decided by the perimeter router, between segments. */
  direction: 'ingress' | 'egress' | 'forward';
  /** Workload names where the address belongs to one, else the address. */
  src: string;
  dst: string;
  srcAddress: string;
  dstAddress: string;
  protocol: string;
  srcPort?: number;
  port?: number;
  verdict: Verdict;
  /** The deciding rule's id, "default", or "unknown" (a table loaded a moment ago). */
  ruleId: string;
  /**
   * An established connection that a policy change cut (its conntrack entry was deleted
   * because the new policy denies it); `time` is when it was cut. See cut.ts.
   */
  cut?: boolean;
}

interface PacketInfo {
  srcAddress: string;
  dstAddress: string;
  protocol: string;
  srcPort?: number;
  port?: number;
}

const TRACE = new RegExp(`^trace id (\\w+) (?:inet ${TABLE}|ip ${PERIMETER_TABLE}) (\\w+) (.*)$`);
/** The chains whose rules decide: each workload's own, and the perimeter router's. */
const DECIDING = new Set(['ingress', 'egress', 'forward']);
const VERDICT = /\(verdict (\w+)\)\s*$/;

function parsePacket(text: string): PacketInfo | undefined {
  const addr = /ip saddr (\S+) ip daddr (\S+)/.exec(text);
  if (!addr) return undefined;
  const ports = /(tcp|udp) sport (\d+) \1 dport (\d+)/.exec(text);
  // An ip-family table's trace names no "ip protocol": the port fields say it.
  const protocol = /ip protocol (\w+)/.exec(text)?.[1] ?? ports?.[1] ?? 'ip';
  return {
    srcAddress: addr[1]!,
    dstAddress: addr[2]!,
    protocol,
    ...(ports ? { srcPort: Number(ports[2]), port: Number(ports[3]) } : {}),
  };
}

/**
 * Turns `nft monitor trace` lines (each optionally prefixed by a Docker log timestamp) into
 * flow events. Feed it lines in order; it keeps the packet of each trace id until its verdict.
 */
export class TraceParser {
  private readonly packets = new Map<string, PacketInfo>();

  /**
   * `unlogged`: also the decisions of rules with `log: false` (the flow log leaves them out;
   * a probe looking for the drop of its own packet does not).
   */
  constructor(
    private readonly seenBy: string,
    private readonly names: Map<string, string> = new Map(),
    private readonly options: { unlogged?: boolean } = {},
  ) {}

  line(raw: string): FlowEvent | undefined {
    let text = raw.trimEnd();
    let time = new Date().toISOString();
    const stamp = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) (.*)$/.exec(text);
    if (stamp) {
      time = new Date(stamp[1]!).toISOString();
      text = stamp[2]!;
    }
    const cut = parseCutLine(text);
    if (cut) {
      const { entry } = cut;
      return {
        time,
        seenBy: this.seenBy,
        direction: cut.direction,
        src: this.names.get(entry.src) ?? entry.src,
        dst: this.names.get(entry.dst) ?? entry.dst,
        srcAddress: entry.src,
        dstAddress: entry.dst,
        protocol: entry.protocol,
        srcPort: entry.sport,
        port: entry.dport,
        verdict: cut.verdict,
        ruleId: cut.ruleId,
        cut: true,
      };
    }
    const m = TRACE.exec(text);
    if (!m) return undefined;
    const [, id, chain, rest] = m as unknown as [string, string, string, string];
    if (rest.startsWith('packet:')) {
      // The router translates proxy addresses before it decides: keep the forward chain's view.
      if (chain === 'trace_in' || chain === 'trace_out' || chain === 'forward' || !this.packets.has(id)) {
        const packet = parsePacket(rest);
        if (packet) this.packets.set(id, packet);
        if (this.packets.size > 2000) this.packets.delete(this.packets.keys().next().value!);
      }
      return undefined;
    }
    if (!DECIDING.has(chain)) return undefined;
    const verdict = VERDICT.exec(rest)?.[1];
    if (verdict !== 'accept' && verdict !== 'drop') return undefined;
    const packet = this.packets.get(id);
    if (!packet) return undefined;
    this.packets.delete(id);
    const comment = /comment "([^"]*)"/.exec(rest)?.[1];
    const parsed = comment ? parseRuleComment(comment) : undefined;
    if (parsed && (parsed.action === 'builtin' || (!parsed.log && !this.options.unlogged))) return undefined;
    const ruleId = parsed?.id ?? 'unknown';
    const flowVerdict: Verdict =
      verdict === 'accept'
        ? parsed?.audit
          ? 'audit'
          : 'allowed'
        : parsed?.action === 'reject' || /\breject\b/.test(rest)
          ? 'rejected'
          : 'denied';
    return {
      time,
      seenBy: this.seenBy,
      direction: chain as FlowEvent['direction'],
      src: this.names.get(packet.srcAddress) ?? packet.srcAddress,
      dst: this.names.get(packet.dstAddress) ?? packet.dstAddress,
      ...packet,
      verdict: flowVerdict,
      ruleId,
    };
  }
}

const STRENGTH: Record<Verdict, number> = { allowed: 0, audit: 1, denied: 2, rejected: 2 };

function connectionKey(e: FlowEvent): string {
  return `${e.cut ? 'cut ' : ''}${e.protocol} ${e.srcAddress}:${e.srcPort ?? ''} ${e.dstAddress}:${e.port ?? ''}`;
}

/** One event per connection: of the events both ends saw, the most decisive (then the earliest). */
export function mergeFlows(events: FlowEvent[]): FlowEvent[] {
  const byKey = new Map<string, FlowEvent>();
  for (const e of [...events].sort((a, b) => a.time.localeCompare(b.time))) {
    const key = connectionKey(e);
    const seen = byKey.get(key);
    if (!seen || STRENGTH[e.verdict] > STRENGTH[seen.verdict])
      byKey.set(key, seen ? { ...e, time: seen.time } : e);
  }
  return [...byKey.values()].sort((a, b) => a.time.localeCompare(b.time));
}

function destroy(stream: NodeJS.ReadableStream): void {
  (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
}

async function names(docker: Docker, project: string): Promise<Map<string, string>> {
  return addressBook(await listInstances(docker, project));
}

function parseLog(text: string, parser: TraceParser): FlowEvent[] {
  return text
    .split('\n')
    .map((l) => parser.line(l))
    .filter((e): e is FlowEvent => e !== undefined);
}

export interface FlowQuery {
  /** ISO time; only events after it. */
  since?: string;
  /** At most this many, the latest. */
  limit?: number;
}

/** The flow log so far, from every sidecar's log (dead ones included, until removed). */
export async function listFlows(
  docker: Docker,
  project: string,
  query: FlowQuery = {},
): Promise<FlowEvent[]> {
  const [sidecars, book] = await Promise.all([traceSources(docker, project), names(docker, project)]);
  const since = query.since ? Math.floor(Date.parse(query.since) / 1000) : 0;
  const all = await Promise.all(
    sidecars.map(async (s) => {
      const buffer = (await docker.getContainer(s.id).logs({
        stdout: true,
        stderr: false,
        timestamps: true,
        follow: false,
        since,
        tail: 20_000,
      })) as unknown as Buffer;
      return parseLog(demuxBuffer(buffer), new TraceParser(s.workload, book));
    }),
  );
  let events = mergeFlows(all.flat());
  if (query.since) events = events.filter((e) => e.time > query.since!);
  return query.limit ? events.slice(-query.limit) : events;
}

/**
 * Follows the flow log of every sidecar, present and future, and calls `onFlow` with each
 * new event (merged across both ends over a short window). Returns the disposer.
 */
export function followFlows(
  docker: Docker,
  project: string,
  onFlow: (event: FlowEvent) => void,
  { windowMs = 300, rescanMs = 1000 } = {},
): () => void {
  const followed = new Map<string, NodeJS.ReadableStream>();
  const book = new Map<string, string>();
  let stopped = false;
  const held = new Map<string, { event: FlowEvent; timer: NodeJS.Timeout }>();

  const emit = (event: FlowEvent) => {
    const key = connectionKey(event);
    const seen = held.get(key);
    if (seen) {
      if (STRENGTH[event.verdict] > STRENGTH[seen.event.verdict])
        seen.event = { ...event, time: seen.event.time };
      return;
    }
    const timer = setTimeout(() => {
      const entry = held.get(key);
      held.delete(key);
      if (entry && !stopped) onFlow(entry.event);
    }, windowMs);
    held.set(key, { event, timer });
  };

  const follow = async (s: Sidecar) => {
    const stream = (await docker.getContainer(s.id).logs({
      stdout: true,
      stderr: false,
      timestamps: true,
      follow: true,
      since: Math.floor(Date.now() / 1000),
    })) as unknown as NodeJS.ReadableStream;
    if (stopped) return destroy(stream);
    followed.set(s.id, stream);
    const parser = new TraceParser(s.workload, book);
    demux(
      stream,
      lines((l) => {
        const event = parser.line(l);
        if (event) emit(event);
      }),
    );
    stream.on('error', () => undefined);
    stream.on('end', () => followed.delete(s.id));
  };

  const scan = async () => {
    const [sidecars, fresh] = await Promise.all([traceSources(docker, project), names(docker, project)]);
    book.clear();
    for (const [k, v] of fresh) book.set(k, v);
    for (const s of sidecars) if (s.running && !followed.has(s.id)) await follow(s).catch(() => undefined);
  };
  // Scan now, then every rescanMs, until stopped.
  const stop = new AbortController();
  void (async () => {
    while (!stopped) {
      await scan().catch(() => undefined);
      await sleep(rescanMs, stop.signal).catch(() => undefined);
    }
  })();
  return () => {
    stopped = true;
    stop.abort();
    for (const { timer } of held.values()) clearTimeout(timer);
    for (const stream of followed.values()) destroy(stream);
  };
}
