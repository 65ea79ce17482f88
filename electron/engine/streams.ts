/**
 * Docker's streams, read one way everywhere.
 *
 * - A container's output without a TTY (attach, exec, logs) is multiplexed: each piece comes
 *   after an 8-byte header (byte 0: stream, 1 = stdout, 2 = stderr; bytes 4-7: size,
 *   big-endian; Docker's API reference, "Attach to a container", "Stream format"). `demux`
 *   splits it as it arrives, also when a header or a piece spans chunks, and `demuxBuffer` a
 *   whole one. Not dockerode's `modem.demuxStream`: it calls itself once per piece and copies
 *   the rest of the chunk each time, so a burst of short lines (a trace monitor's output under
 *   load, 20,000 lines of history) overflowed the stack.
 * - A chunk is not a line: `lines` hands over whole lines only, however the bytes were cut
 *   (also inside a multi-byte character), and `jsonLines` the lines that parse as JSON
 *   (Docker's events, the load generator's reports).
 */
import { StringDecoder } from 'node:string_decoder';

/** Where demuxed output goes: a Writable, or anything with `write` (a line splitter). */
export interface Sink {
  write(chunk: Buffer): unknown;
}

const HEADER_BYTES = 8;

/**
 * A multiplexed stream's reader, fed chunk by chunk: stdout's pieces to `stdout`, stderr's to
 * `stderr`. Output that does not start with a valid header (a TTY's) goes to `stdout` as it is,
 * from there on.
 */
class FrameReader {
  private pending: Buffer = Buffer.alloc(0);
  private raw = false;

  constructor(
    private readonly stdout: Sink,
    private readonly stderr: Sink,
  ) {}

  write(chunk: Buffer): void {
    if (this.raw) {
      this.stdout.write(chunk);
      return;
    }
    const buffer = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let offset = 0;
    while (buffer.length - offset >= HEADER_BYTES) {
      const stream = buffer[offset]!;
      if (stream > 2) {
        // Not multiplexed after all (or misaligned): the rest is plain output.
        this.raw = true;
        this.pending = Buffer.alloc(0);
        this.stdout.write(buffer.subarray(offset));
        return;
      }
      const size = buffer.readUInt32BE(offset + 4);
      if (buffer.length - offset - HEADER_BYTES < size) break;
      const piece = buffer.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + size);
      offset += HEADER_BYTES + size;
      if (stream === 2) this.stderr.write(piece);
      else if (stream === 1) this.stdout.write(piece);
    }
    this.pending = Buffer.from(buffer.subarray(offset));
  }
}

/**
 * Splits a multiplexed stream as it arrives: stdout's pieces to `stdout`, stderr's to
 * `stderr` (by default the same sink, in the order they came).
 */
export function demux(stream: NodeJS.ReadableStream, stdout: Sink, stderr: Sink = stdout): void {
  const reader = new FrameReader(stdout, stderr);
  stream.on('data', (chunk: Buffer) => reader.write(chunk));
}

/**
 * A whole multiplexed buffer (a container's logs with `follow: false`) as text, decoded once
 * all pieces are joined; `which` picks the streams kept (both by default, in their order).
 */
export function demuxBuffer(buffer: Buffer, which: 'both' | 'stdout' | 'stderr' = 'both'): string {
  const parts: Buffer[] = [];
  const keep: Sink = { write: (chunk) => parts.push(chunk) };
  const drop: Sink = { write: () => undefined };
  new FrameReader(which === 'stderr' ? drop : keep, which === 'stdout' ? drop : keep).write(buffer);
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
