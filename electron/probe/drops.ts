/**
 * The kernel's word on a probe's dropped packet. Every table marks a new connection for
 * tracing in the chain that decides it (firewall/compile.ts, TRACE_NEW), and every pod's
 * holder (and the perimeter router) runs `nft monitor trace` into its log, so a SYN a table
 * drops is printed at once, with the rule that dropped it: the source's egress, the
 * destination's ingress, or the router's forward chain. A probe follows those logs while it
 * runs, and a denied flow is known as soon as its drop is printed, instead of after its
 * connect timeout.
 *
 * Evidence is the trace of that very packet: the probe sends each SYN from a source port of
 * its own choosing (see nextSourcePorts), and a drop counts only for the source address, source
 * port and destination port it names. Nothing is inferred from the policy.
 */
import type Docker from 'dockerode';
import { performance } from 'node:perf_hooks';
import { demux, lines } from '../engine/streams';
import type { FlowEvent } from '../firewall/flows';
import { TraceParser } from '../firewall/flows';
import { withTimeout } from '../wait';

/** A drop the kernel traced: which rule, in whose table, and when it was read (performance.now(), ms). */
export interface Drop {
  ruleId: string;
  /** The workload whose table dropped it (its holder's log), or the perimeter router. */
  seenBy: string;
  direction: FlowEvent['direction'];
  srcAddress: string;
  srcPort: number;
  port: number;
  at: number;
}

/** How long a followed log may take to answer before its source is skipped, in ms. */
const FOLLOW_LIMIT_MS = 1_500;

/** Where traces are printed: a firewall container's id and the workload it decides for. */
export interface TraceSource {
  id: string;
  workload: string;
}

/**
 * Follows the trace logs of `sources` and calls `onDrop` for every TCP packet a table drops
 * (rejects are left out: the prober sees those itself). Resolves once every log is followed
 * (a packet sent after that is seen); a log that cannot be followed is skipped (its drops
 * then wait out the timeout). Returns the disposer.
 */
export async function followDrops(
  docker: Docker,
  sources: TraceSource[],
  onDrop: (drop: Drop) => void,
): Promise<() => void> {
  const streams = await Promise.all(
    sources.map(async (source) => {
      type LogStream = NodeJS.ReadableStream & { destroy?: () => void };
      const following = docker
        .getContainer(source.id)
        .logs({ stdout: true, stderr: false, follow: true, since: Math.floor(Date.now() / 1000) }) as Promise<
        LogStream | undefined
      >;
      // An engine may hold a followed log's answer until its first line (Podman's does): a log
      // that does not answer at once is skipped, and closed if it answers later.
      const stream = await withTimeout(following, {
        what: `following the trace log of ${source.workload}`,
        limitMs: FOLLOW_LIMIT_MS,
      }).catch(() => {
        void following.then(
          (late) => late?.destroy?.(),
          () => undefined,
        );
        return undefined;
      });
      if (!stream) return undefined;
      const parser = new TraceParser(source.workload, new Map(), { unlogged: true });
      stream.on('error', () => undefined);
      demux(
        stream,
        lines((line) => {
          const event = parser.line(line);
          if (!event || event.verdict !== 'denied' || event.cut || event.protocol !== 'tcp') return;
          if (event.srcPort === undefined || event.port === undefined) return;
          onDrop({
            ruleId: event.ruleId,
            seenBy: event.seenBy,
            direction: event.direction,
            srcAddress: event.srcAddress,
            srcPort: event.srcPort,
            port: event.port,
            at: performance.now(),
          });
        }),
      );
      return stream;
    }),
  );
  return () => {
    for (const s of streams) s?.destroy?.();
  };
}

/** The first source port of the range probes send from: below Linux's ephemeral range (32768-60999). */
const FIRST_PORT = 20_000;
const PORTS = 12_000;
let nextPort = FIRST_PORT + Math.floor(Math.random() * PORTS);

/**
 * `count` source ports for probes, none used by this process in its last 12,000 probes (a
 * connect still waiting from an earlier run could otherwise hold the same pair), starting at a
 * random point of 20000-31999 in each process.
 */
export function nextSourcePorts(count: number): number[] {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    ports.push(nextPort);
    nextPort = nextPort + 1 >= FIRST_PORT + PORTS ? FIRST_PORT : nextPort + 1;
  }
  return ports;
}
