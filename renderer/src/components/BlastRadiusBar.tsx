import { useEffect } from 'react';
import type { Api } from '../../../electron/api/contract';
import type { BlastRadius } from '../../../electron/api/firewall';
import type { Action } from '../hooks/useAction';
import { useAction } from '../hooks/useAction';
import type { WorkloadGroup } from '../workloads';
import { CallError } from './CallError';

/**
 * The blast radius of the workload picked as compromised, probed again whenever `context`
 * changes (the deployment, its layout, the policy in force): `blast:radius` probes from
 * inside that workload, so the answer is what it can reach now, not what the policy says.
 */
export function useBlastRadius(api: Api, workload: string | undefined, context: string): Action<BlastRadius> {
  const blast = useAction<BlastRadius>();
  const { run, clear } = blast;
  useEffect(() => {
    if (!workload) clear();
    else run(() => api.call('blast:radius', { workload }));
  }, [api, workload, context, run, clear]);
  return blast;
}

/**
 * Above the call graph: which workload is compromised (none, or any workload; a click on a
 * node picks it too) and how far it gets, "jumpbox reaches 1 of 12 workloads (0 databases)".
 */
export function BlastRadiusBar({
  groups,
  compromised,
  onPick,
  blast,
}: {
  groups: WorkloadGroup[];
  compromised: string | undefined;
  onPick: (workload: string | undefined) => void;
  blast: Action<BlastRadius>;
}) {
  const result = blast.value?.source === compromised ? blast.value : undefined;
  return (
    <div className="blast-bar">
      <label className="blast-pick">
        <span>Compromised workload</span>
        <select
          value={compromised ?? ''}
          onChange={(e) => onPick(e.currentTarget.value || undefined)}
          disabled={groups.length === 0}
        >
          <option value="">none</option>
          {groups.map((g) => (
            <option key={g.name} value={g.name}>
              {g.name}
            </option>
          ))}
        </select>
      </label>
      <p className="blast-summary" role="status" aria-label="Blast radius">
        {!compromised ? (
          <span className="muted">
            Pick a workload (or click one in the graph) to see what an attacker inside it reaches.
          </span>
        ) : blast.running ? (
          <span className="muted">Probing from inside {compromised}…</span>
        ) : result ? (
          <>
            <strong>{result.summary}</strong>
            <span className="muted">
              {' '}
              observed from inside it
              {result.mismatches
                ? `; ${result.mismatches} port${result.mismatches === 1 ? '' : 's'} differ from what the policy expects`
                : '; the policy expects the same'}
              .
            </span>
          </>
        ) : null}
      </p>
      {blast.error && <CallError title="Could not probe the blast radius" error={blast.error} />}
    </div>
  );
}
