/**
 * Docker's streams, read one way everywhere.
 *
 * - A container's output without a TTY (attach, exec, logs) is multiplexed: each piece comes
 *   after an 8-byte header (stream 1 = stdout, 2 = stderr; size, big-endian). dockerode's
 *   `modem.demuxStream` splits it, also when a header or a piece spans chunks; `demux` and
 *   `demuxBuffer` are the only callers of it here.
 * - A chunk is not a line: `lines` hands over whole lines only, however the bytes were cut
 *   (also inside a multi-byte character), and `jsonLines` the lines that parse as JSON
 *   (Docker's events, the load generator's reports).
 */
import { EventEmitter } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import type Docker from 'dockerode';

/** Where demuxed output goes: a Writable, or anything with `write` (a line splitter). */
export interface Sink {
  write(chunk: Buffer): unknown;
}

/**
 * Splits a multiplexed stream as it arrives: stdout's pieces to `stdout`, stderr's to
 * `stderr` (by default the same sink, in the order they came). A stream that does not start
 * with a valid header (a TTY's) goes to `stdout` as it is (dockerode's rule).
 */
export function demux(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  stdout: Sink,
  stderr: Sink = stdout,
): void {
  // dockerode calls only `write` on the two targets.
  docker.modem.demuxStream(stream, stdout as NodeJS.WritableStream, stderr as NodeJS.WritableStream);
}

/**
 * A whole multiplexed buffer (a container's logs with `follow: false`) as text, decoded once
 * all pieces are joined; `which` picks the streams kept (both by default, in their order).
 */
export function demuxBuffer(
  docker: Docker,
  buffer: Buffer,
  which: 'both' | 'stdout' | 'stderr' = 'both',
): string {
  const parts: Buffer[] = [];
  const keep: Sink = { write: (chunk) => parts.push(chunk) };
  const drop: Sink = { write: () => undefined };
  const source = new EventEmitter();
  demux(
    docker,
    source as unknown as NodeJS.ReadableStream,
    which === 'stderr' ? drop : keep,
    which === 'stdout' ? drop : keep,
  );
  source.emit('data', buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** A sink that hands over whole lines; `end()` hands over a last line that had no newline. */
export interface LineSink extends Sink {
  write(chunk: Buffer | string): void;
  end(): void;
}

/**
 * Splits text arriving in chunks into lines (without their "\n"; a "\r" before it is kept),
 * calling `onLine` once per whole line, in order. A partial line waits for the chunk that ends
 * it; UTF-8 characters cut between chunks are joined first.
 */
export function lines(onLine: (line: string) => void): LineSink {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  const take = (text: string) => {
    rest += text;
    let nl;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      onLine(line);
    }
  };
  return {
    write: (chunk) => take(typeof chunk === 'string' ? chunk : decoder.write(chunk)),
    end: () => {
      take(decoder.end());
      if (rest) onLine(rest);
      rest = '';
    },
  };
}

/** `lines`, keeping only lines that are a JSON object (`{...}`), parsed; other lines are skipped. */
export function jsonLines(onValue: (value: unknown) => void): LineSink {
  return lines((line) => {
    const text = line.trim();
    if (!text.startsWith('{')) return;
    try {
      onValue(JSON.parse(text));
    } catch {
      /* not JSON after all */
    }
  });
}
