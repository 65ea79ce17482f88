import type { ReactNode } from 'react';

/** What a matrix row and column are made of: a flow's source, destination and port. */
export interface MatrixFlow {
  src: string;
  dst: string;
  port: { port: number; protocol: string };
}

/** The rule id of a flow inside one segment behind a perimeter: nothing decides it. */
export const SAME_SEGMENT = '_same-segment';

const keyOf = (f: MatrixFlow) => `${f.dst}:${f.port.port}/${f.port.protocol}`;

/**
 * A table of flows: rows are sources (sorted), columns destination:port (by destination, then
 * port; "/udp" shown for UDP). `cell` draws the flows of one source to one column (several
 * when a destination has replicas; none gives the cell `—` or whatever `cell` draws for []).
 */
export function MatrixTable<F extends MatrixFlow>({
  label,
  className,
  flows,
  cell,
}: {
  label: string;
  className?: string;
  flows: F[];
  cell: (flows: F[], key: string) => ReactNode;
}) {
  const sources = [...new Set(flows.map((f) => f.src))].sort();
  const columns = [...new Map(flows.map((f) => [keyOf(f), { dst: f.dst, port: f.port }])).entries()].sort(
    ([, a], [, b]) => a.dst.localeCompare(b.dst) || a.port.port - b.port.port,
  );
  return (
    <div className="matrix-scroll">
      <table className={className ? `matrix ${className}` : 'matrix'} aria-label={label}>
        <thead>
          <tr>
            <th scope="col" className="matrix-corner">
              from \ to
            </th>
            {columns.map(([key, c]) => (
              <th scope="col" key={key}>
                <span className="mono">{c.dst}</span>
                <span className="matrix-port">
                  :{c.port.port}
                  {c.port.protocol === 'udp' ? '/udp' : ''}
                </span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sources.map((src) => (
            <tr key={src}>
              <th scope="row" className="mono">
                {src}
              </th>
              {columns.map(([key]) =>
                cell(
                  flows.filter((f) => f.src === src && keyOf(f) === key),
                  key,
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
