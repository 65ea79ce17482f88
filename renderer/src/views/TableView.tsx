import { useCallback, useEffect } from 'react';
import type { Api, LabTable } from '../../../electron/api/contract';
import { LAB_APPS as APPS, LAB_ATTACKERS, LAB_NETWORKS as NETWORKS } from '../../../electron/api/vocabulary';
import type { LabAttacker, LabNetwork } from '../../../electron/api/vocabulary';
import { CallError } from '../components/CallError';
import { Figure } from '../components/labs/LabSummaryCard';
import { useLoader } from '../hooks/useLoader';

const NETWORK_TITLES: Record<LabNetwork, string> = {
  flat: 'Flat network',
  segmented: 'Microsegmented',
  perimeter: 'Perimeter firewall',
};

/**
 * The 2×2 table (and the perimeter beside it), filled from the labs completed so far: in each
 * cell, the labs done there and their claims with the student's own numbers. An empty cell says
 * which lab fills it.
 */
export function TableView({ api, active }: { api: Api; active: boolean }) {
  const table = useLoader(useCallback(() => api.call('labs:table', {}), [api]));
  const { reload } = table;
  useEffect(() => {
    if (active) reload();
  }, [active, reload]);
  return (
    <main className="layout layout-single">
      <section className="labs-intro">
        <h2>The 2×2: application architecture × network architecture</h2>
        <p className="muted">
          Filled from your own runs. Every cell measures the same two attackers the same way: the stolen
          operator laptop (the jumpbox) and compromised shop code (the workload running the catalog’s code:
          the monolith’s app, or the catalog service), each with only what it finds where it stands. A data
          domain is a schema (catalog, cart, orders, payments, users) whose database the attacker reaches and
          can log in to. Each row and each column changes one thing; each claim says whether your numbers
          support it.
        </p>
      </section>
      {table.error && <CallError title="Could not read the table" error={table.error} />}
      {table.value && <Table table={table.value} />}
    </main>
  );
}

const VERDICT = { supported: 'supported', 'not-supported': 'not supported', 'not-measured': 'not measured' };
const ATTACKERS: Record<LabAttacker, string> = {
  jumpbox: 'Stolen jumpbox',
  'catalog-code': 'Compromised catalog code',
};

/** Both attackers' figures in one cell, or "not measured yet". */
function Attackers({ attackers }: { attackers: LabTable['cells'][number]['attackers'] }) {
  return (
    <dl className="two-by-two-attackers">
      {LAB_ATTACKERS.map((a) => {
        const f = attackers[a];
        return (
          <div key={a} data-attacker={a}>
            <dt>{ATTACKERS[a]}</dt>
            <dd>
              {f ? (
                <span title={`measured in ${f.lab}, step ${f.step}`}>
                  {[
                    f.workloads !== null && `${f.workloads} workload${f.workloads === 1 ? '' : 's'}`,
                    f.domains !== null && `${f.domains} data domain${f.domains === 1 ? '' : 's'}`,
                  ]
                    .filter(Boolean)
                    .join(', ')}
                </span>
              ) : (
                <span className="muted">not measured yet</span>
              )}
            </dd>
          </div>
        );
      })}
    </dl>
  );
}

function Table({ table }: { table: LabTable }) {
  const networks = NETWORKS.filter(
    (n) => n !== 'perimeter' || table.cells.some((c) => c.network === 'perimeter' && c.labs.length > 0),
  );
  const cellOf = (app: string, network: string) =>
    table.cells.find((c) => c.app === app && c.network === network);
  return (
    <table className="two-by-two" aria-label="2×2 table">
      <thead>
        <tr>
          <th scope="col" className="lab-grid-corner">
            application \ network
          </th>
          {networks.map((n) => (
            <th scope="col" key={n}>
              {NETWORK_TITLES[n]}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {APPS.map((app) => (
          <tr key={app}>
            <th scope="row">{app === 'monolith' ? 'Monolith' : 'Microservices'}</th>
            {networks.map((network) => {
              const cell = cellOf(app, network);
              const labs = cell?.labs ?? [];
              const done = labs.filter((l) => l.state === 'completed');
              return (
                <td
                  key={network}
                  data-app={app}
                  data-network={network}
                  className={done.length ? 'cell-filled' : ''}
                >
                  {cell && <Attackers attackers={cell.attackers} />}
                  {labs.length === 0 && <p className="small muted">No lab here.</p>}
                  {labs.map((lab) => (
                    <div key={lab.id} className="two-by-two-lab">
                      <p className="two-by-two-title">
                        {lab.title}{' '}
                        <span className="small muted">
                          {lab.state === 'completed'
                            ? ''
                            : lab.state === 'in-progress'
                              ? '(in progress)'
                              : '(not done yet)'}
                        </span>
                      </p>
                      {lab.state === 'completed' && (
                        <ul className="claims">
                          {lab.claims.map((claim, i) => (
                            <li
                              key={i}
                              className={`claim claim-${claim.verdict}`}
                              data-verdict={claim.verdict}
                            >
                              <p className="claim-text">
                                <span className="claim-verdict">{VERDICT[claim.verdict]}</span> {claim.text}
                              </p>
                              {claim.measurements.map((m) => (
                                <Figure key={m.id} m={m} />
                              ))}
                            </li>
                          ))}
                        </ul>
                      )}
                    </div>
                  ))}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
