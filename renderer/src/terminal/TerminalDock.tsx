/**
 * The Terminal panel: a dock at the bottom of the window with one tab per session. The tab
 * says which workload (and replica) and whether it is the workload's shell or its firewall;
 * the line above the terminal says which container and which user. A refused or ended
 * session says why in its tab, instead of leaving a dead terminal.
 */
import type { KeyboardEvent } from 'react';
import { tabTitle, useTerminalPanel } from './TerminalContext';
import type { TerminalTab } from './TerminalContext';
import { XtermView } from './XtermView';

export function TerminalDock() {
  const { api, tabs, active, open, closeTab, select, setOpen, router } = useTerminalPanel();
  if (!tabs.length) return null;

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    const index = tabs.findIndex((t) => t.key === active);
    const next = tabs[(index + step + tabs.length) % tabs.length]!;
    select(next.key);
    document.getElementById(`terminal-tab-${next.key}`)?.focus();
  };

  return (
    <section className={`terminal-dock${open ? '' : ' terminal-dock-closed'}`} aria-label="Terminals">
      <header className="terminal-bar">
        <div className="terminal-tabs" role="tablist" aria-label="Terminal sessions" onKeyDown={onKeyDown}>
          {tabs.map((tab) => (
            <div key={tab.key} className={`terminal-tab terminal-tab-${tab.state.kind}`}>
              <button
                type="button"
                role="tab"
                id={`terminal-tab-${tab.key}`}
                aria-selected={tab.key === active}
                aria-controls={`terminal-panel-${tab.key}`}
                tabIndex={tab.key === active ? 0 : -1}
                onClick={() => {
                  select(tab.key);
                  setOpen(true);
                }}
              >
                {tabTitle(tab.request)}
              </button>
              <button
                type="button"
                className="terminal-tab-close"
                aria-label={`Close ${tabTitle(tab.request)}`}
                onClick={() => closeTab(tab.key)}
              >
                ×
              </button>
            </div>
          ))}
        </div>
        <button type="button" className="terminal-toggle" onClick={() => setOpen(!open)} aria-expanded={open}>
          {open ? 'Hide terminals' : `Terminals (${tabs.length})`}
        </button>
      </header>
      {tabs.map((tab) => (
        <div
          key={tab.key}
          role="tabpanel"
          id={`terminal-panel-${tab.key}`}
          aria-labelledby={`terminal-tab-${tab.key}`}
          className="terminal-panel"
          hidden={!open || tab.key !== active}
        >
          <SessionLine tab={tab} />
          {(tab.state.kind === 'open' || tab.state.kind === 'ended') && (
            <XtermView
              api={api}
              sessionId={tab.state.session.id}
              router={router}
              visible={open && tab.key === active}
              ended={tab.state.kind === 'ended'}
            />
          )}
        </div>
      ))}
    </section>
  );
}

/** Which container, which user, workload or firewall; or why there is no session. */
function SessionLine({ tab }: { tab: TerminalTab }) {
  const { state } = tab;
  switch (state.kind) {
    case 'opening':
      return <p className="terminal-line muted">Opening a terminal in {tabTitle(tab.request)}…</p>;
    case 'failed':
      return (
        <div className="terminal-line terminal-error" role="alert">
          <strong>Could not open a terminal in {tabTitle(tab.request)}:</strong> {state.message}
          {state.hint && <span className="terminal-hint"> {state.hint}</span>}
        </div>
      );
    case 'open':
    case 'ended': {
      const s = state.session;
      return (
        <div className="terminal-line">
          <span className="terminal-who" data-testid="terminal-who">
            {s.role === 'firewall' ? 'firewall of ' : ''}
            {s.workload} · container <code>{s.container}</code> · user <code>{s.user}</code>
          </span>
          {state.kind === 'ended' && (
            <span className="terminal-ended" role="status">
              Session ended: {state.end.reason}
            </span>
          )}
        </div>
      );
    }
  }
}
