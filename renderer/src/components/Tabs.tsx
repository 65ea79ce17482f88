import type { KeyboardEvent } from 'react';
import type { DeploymentStatus } from '../../../electron/api/contract';

export type ViewName = 'first' | 'labs' | 'deployment' | 'firewall' | 'load' | 'table';

export const VIEWS: { name: ViewName; title: string }[] = [
  { name: 'first', title: 'First screen' },
  { name: 'labs', title: 'Labs' },
  { name: 'deployment', title: 'Deployment' },
  { name: 'firewall', title: 'Firewall' },
  { name: 'load', title: 'Load' },
  { name: 'table', title: '2×2' },
];

/** The tab bar, with what runs now on the right (so every view says it). */
export function Tabs({
  view,
  onChange,
  deployment,
}: {
  view: ViewName;
  onChange: (view: ViewName) => void;
  deployment?: DeploymentStatus;
}) {
  // Arrow keys move between tabs, as WAI-ARIA's tabs pattern asks.
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    const index = VIEWS.findIndex((v) => v.name === view);
    const next = VIEWS[(index + step + VIEWS.length) % VIEWS.length]!;
    onChange(next.name);
    document.getElementById(`tab-${next.name}`)?.focus();
  };
  return (
    <nav className="tabs-bar">
      <div className="tabs" role="tablist" aria-label="Views" onKeyDown={onKeyDown}>
        {VIEWS.map((v) => (
          <button
            key={v.name}
            type="button"
            role="tab"
            id={`tab-${v.name}`}
            aria-controls={`panel-${v.name}`}
            aria-selected={view === v.name}
            tabIndex={view === v.name ? 0 : -1}
            className="tab"
            onClick={() => onChange(v.name)}
          >
            {v.title}
          </button>
        ))}
      </div>
      <p className="tabs-running" aria-label="Running deployment">
        {deployment?.deployment ? (
          <>
            <span className={`dot ${deployment.healthy ? 'dot-ok' : 'dot-warn'}`} aria-hidden="true" />
            {deployment.deployment} {deployment.healthy ? 'running' : 'not healthy yet'}
            {deployment.layout === 'perimeter' ? ' behind a perimeter' : ''}
          </>
        ) : (
          <span className="muted">{deployment ? 'no deployment running' : ''}</span>
        )}
      </p>
    </nav>
  );
}
