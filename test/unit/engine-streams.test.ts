import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { demux, demuxBuffer, jsonLines, lines } from '../../electron/engine/streams';

/** One piece of Docker's multiplexed stream: header (stream, 0, 0, 0, size) and payload. */
function frame(stream: 1 | 2, text: string | Buffer): Buffer {
  const payload = typeof text === 'string' ? Buffer.from(text) : text;
  const header = Buffer.alloc(8);
  header.writeUInt8(stream, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('lines', () => {
  it('hands over whole lines only, however the chunks were cut', () => {
    const seen: string[] = [];
    const splitter = lines((l) => seen.push(l));
    splitter.write('Retrieving Rel');
    expect(seen).toEqual([]);
    splitter.write('ease\nValidating\n\nUnpa');
    splitter.write(Buffer.from('cking\nlast'));
    expect(seen).toEqual(['Retrieving Release', 'Validating', '', 'Unpacking']);
    splitter.end();
    expect(seen.at(-1)).toBe('last');
  });

  it('joins a UTF-8 character cut between chunks', () => {
    const seen: string[] = [];
    const splitter = lines((l) => seen.push(l));
    const bytes = Buffer.from('größe → 3\n');
    for (const byte of bytes) splitter.write(Buffer.from([byte]));
    expect(seen).toEqual(['größe → 3']);
  });

  it('keeps only JSON objects with jsonLines', () => {
    const seen: unknown[] = [];
    const feed = jsonLines((v) => seen.push(v));
    feed.write('{"a":1}\nplain text\n{broken\n  {"b"');
    feed.write(':2}  \n');
    expect(seen).toEqual([{ a: 1 }, { b: 2 }]);
  });
});

describe('demux', () => {
  it('splits a whole buffer, stdout and stderr in order or apart', () => {
    const buffer = Buffer.concat([frame(1, 'out 1\n'), frame(2, 'err 1\n'), frame(1, 'out 2\n')]);
    expect(demuxBuffer(buffer)).toBe('out 1\nerr 1\nout 2\n');
    expect(demuxBuffer(buffer, 'stdout')).toBe('out 1\nout 2\n');
    expect(demuxBuffer(buffer, 'stderr')).toBe('err 1\n');
  });

  it("reads a burst of 50,000 short pieces in one chunk (dockerode's recursive demuxStream overflowed the stack)", () => {
    const pieces = Array.from({ length: 50_000 }, (_, i) => frame(1, `trace ${i}\n`));
    const seen: string[] = [];
    const splitter = lines((l) => seen.push(l));
    expect(demuxBuffer(Buffer.concat(pieces)).split('\n')).toHaveLength(50_001);
    const source = new PassThrough();
    demux(source, splitter);
    source.write(Buffer.concat(pieces));
    expect(seen).toHaveLength(50_000);
    expect(seen.at(-1)).toBe('trace 49999');
  });

  it("passes a TTY's output (no headers) through as it is", () => {
    expect(demuxBuffer(Buffer.from('$ ls\r\nREADME.md\r\n'))).toBe('$ ls\r\nREADME.md\r\n');
  });

  it('decodes a character split across two pieces once they are joined', () => {
    const bytes = Buffer.from('→');
    const buffer = Buffer.concat([frame(1, bytes.subarray(0, 1)), frame(1, bytes.subarray(1))]);
    expect(demuxBuffer(buffer)).toBe('→');
  });

  it('follows a live stream whose headers and lines span chunks, into line splitters', () => {
    const source = new PassThrough();
    const out: string[] = [];
    const err: string[] = [];
    demux(
      source,
      lines((l) => out.push(l)),
      lines((l) => err.push(l)),
    );
    const bytes = Buffer.concat([frame(1, 'microlab-load 1.1 o'), frame(2, 'warn\n'), frame(1, 'k\nnext\n')]);
    // one byte at a time: every header and every line is cut somewhere
    for (const byte of bytes) source.write(Buffer.from([byte]));
    expect(out).toEqual(['microlab-load 1.1 ok', 'next']);
    expect(err).toEqual(['warn']);
  });
});
