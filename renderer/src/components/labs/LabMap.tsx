import type { LabInfo, LabList, LabLoadError } from '../../../../electron/api/contract';
import { LAB_APPS as APPS, LAB_NETWORKS } from '../../../../electron/api/vocabulary';

/** The 2×2's columns; the perimeter's labs follow it. */
const NETWORKS = LAB_NETWORKS.filter((n) => n !== 'perimeter');

/**
 * The labs as a map: rows monolith / microservices, columns flat / segmented (the 2×2 the
 * labs prove), then the labs beyond it (the perimeter, the capstone) in their order. Each
 * card has the time it takes and the student's progress. A lab file that does not load is an
 * error card with each problem at file:line:column; the other labs open as usual. In a class whose
 * instructor released labs (`released`: their ids), each card says whether its lab is released:
 * marked, not hidden (the labs run on this computer; a student ahead may go on).
 */
export function LabMap({
  list,
  onOpen,
  released,
}: {
  list: LabList;
  onOpen: (lab: string) => void;
  released?: string[];
}) {
  const byOrder = [...list.labs].sort((a, b) => a.order - b.order);
  const inGrid = new Set<string>();
  const cell = (app: string, network: string) => {
    const lab = byOrder.find((l) => l.quadrant.app === app && l.quadrant.network === network);
    if (lab) inGrid.add(lab.id);
    return lab;
  };
  const grid = APPS.map((app) => ({
    app,
    labs: NETWORKS.map((network) => ({ network, lab: cell(app, network) })),
  }));
  const beyond = byOrder.filter((l) => !inGrid.has(l.id));
  return (
    <div className="lab-map">
      <table className="lab-grid" aria-label="Labs by architecture">
        <thead>
          <tr>
            <th scope="col" className="lab-grid-corner">
              application \ network
            </th>
            {NETWORKS.map((n) => (
              <th scope="col" key={n}>
                {n === 'flat' ? 'Flat network' : 'Microsegmented'}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {grid.map((row) => (
            <tr key={row.app}>
              <th scope="row">{row.app === 'monolith' ? 'Monolith' : 'Microservices'}</th>
              {row.labs.map(({ network, lab }) => (
                <td key={network}>
                  {lab ? (
                    <LabCard lab={lab} onOpen={onOpen} released={released} />
                  ) : (
                    <p className="muted small">No lab here yet.</p>
                  )}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {beyond.length > 0 && (
        <section className="lab-beyond" aria-label="Beyond the 2×2">
          <h3>Then</h3>
          <div className="lab-beyond-list">
            {beyond.map((lab) => (
              <LabCard key={lab.id} lab={lab} onOpen={onOpen} released={released} />
            ))}
          </div>
        </section>
      )}
      {list.errors.map((error) => (
        <BrokenLab key={error.file} error={error} />
      ))}
    </div>
  );
}

function LabCard({
  lab,
  onOpen,
  released,
}: {
  lab: LabInfo;
  onOpen: (lab: string) => void;
  released?: string[];
}) {
  const done = lab.stepsPassed + lab.stepsSolved;
  const label = lab.state === 'completed' ? 'Review' : lab.state === 'in-progress' ? 'Continue' : 'Open';
  return (
    <article className={`lab-card lab-card-${lab.state}`} aria-label={lab.title} data-lab={lab.id}>
      <header className="lab-card-header">
        <h4>
          <span className="lab-order">{lab.order}.</span> {lab.title}
        </h4>
        <span className="lab-minutes" title="Estimated time">
          ~{lab.coreMinutes < lab.minutes ? `${lab.coreMinutes}–${lab.minutes}` : lab.minutes} min
        </span>
      </header>
      {released &&
        (released.includes(lab.id) ? (
          <span className="badge badge-ok lab-released">released by your instructor</span>
        ) : (
          <span className="badge lab-released">not released yet</span>
        ))}
      <p className="lab-summary">{lab.summary}</p>
      <div className="lab-progress">
        <progress max={lab.steps} value={done} aria-label={`${lab.title}: progress`} />
        <span className="small">
          {lab.state === 'not-started'
            ? `${lab.steps} steps, not started`
            : `${done} of ${lab.steps} steps done${lab.stepsSolved ? ` (${lab.stepsSolved} with “Show me”)` : ''}`}
          {lab.state === 'completed' ? ' · completed' : ''}
        </span>
      </div>
      <p className="lab-card-actions">
        <button
          type="button"
          className={lab.state === 'completed' ? '' : 'primary'}
          onClick={() => onOpen(lab.id)}
        >
          {label} <span className="visually-hidden">{lab.title}</span>
        </button>
      </p>
    </article>
  );
}

function BrokenLab({ error }: { error: LabLoadError }) {
  return (
    <article className="lab-card lab-card-broken" role="alert" aria-label={`Lab ${error.id} does not load`}>
      <header className="lab-card-header">
        <h4>Lab “{error.id}” does not load</h4>
      </header>
      <p className="small">
        Its file has {error.issues.length === 1 ? 'a problem' : `${error.issues.length} problems`}; the other
        labs are not affected.
      </p>
      <ol className="issues mono small">
        {error.issues.map((issue, i) => (
          <li key={i}>
            {issue.file}:{issue.line}:{issue.column}: {issue.message}
          </li>
        ))}
      </ol>
    </article>
  );
}
