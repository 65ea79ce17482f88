/**
 * How the CLI prints: one table helper that sizes its columns to their contents, and one JSON
 * printer (`--json` everywhere it exists).
 */

export type Align = 'left' | 'right';

export interface TableOptions {
  /** Alignment per column (default left); a right-aligned column pads on its left. */
  align?: readonly Align[];
  /** Written before every row (default none). */
  indent?: string;
  /** Between columns (default one space). */
  gap?: string | readonly string[];
}

/**
 * Rows of cells as lines, each column as wide as its widest cell (in characters). The last
 * column is not padded and no line ends in spaces. A row may have fewer cells than others.
 */
export function table(rows: readonly (readonly (string | number)[])[], options: TableOptions = {}): string[] {
  const cells = rows.map((row) => row.map(String));
  const columns = Math.max(0, ...cells.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, c) =>
    Math.max(
      0,
      ...cells.map((row) => (c < columns - 1 || options.align?.[c] === 'right' ? (row[c]?.length ?? 0) : 0)),
    ),
  );
  const gapAt = (c: number) => (typeof options.gap === 'string' ? options.gap : (options.gap?.[c] ?? ' '));
  return cells.map((row) => {
    const line = row
      .map((cell, c) => {
        const right = options.align?.[c] === 'right';
        const last = c === row.length - 1;
        const padded = right ? cell.padStart(widths[c]!) : last ? cell : cell.padEnd(widths[c]!);
        return c === 0 ? padded : gapAt(c - 1) + padded;
      })
      .join('');
    return (options.indent ?? '') + line.trimEnd();
  });
}

/** A value as indented JSON on its own lines: what every `--json` prints. */
export function printJson(out: NodeJS.WritableStream, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A command's result: as JSON with `--json`, else as `format` writes it for a reader. */
export function printResult<T>(
  out: NodeJS.WritableStream,
  json: boolean,
  value: T,
  format: (v: T) => string,
): void {
  if (json) printJson(out, value);
  else out.write(format(value));
}

/** A value as one line of JSON (a stream of events, one per line). */
export function printJsonLine(out: NodeJS.WritableStream, value: unknown): void {
  out.write(`${JSON.stringify(value)}\n`);
}

/** "1 check", "3 checks". */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
