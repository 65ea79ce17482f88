import type { EngineEndpoint } from '../../../electron/api/contract';

export type EngineState =
  | { kind: 'checking' }
  | { kind: 'connected'; endpoint: EngineEndpoint }
  | { kind: 'not-connected'; to: 'a Docker engine' | 'MicroLab' };

function describe(engine: EngineState): string {
  switch (engine.kind) {
    case 'checking':
      return 'Checking the Docker engine…';
    case 'connected':
      return `Connected to ${engine.endpoint.address} via ${engine.endpoint.source}`;
    case 'not-connected':
      return `Not connected to ${engine.to}`;
  }
}

export function Header({ engine }: { engine: EngineState }) {
  return (
    <header className="app-header">
      <div className="brand">
        <svg className="brand-mark" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
          <rect x="3" y="3" width="11" height="11" rx="2.5" />
          <rect x="18" y="3" width="11" height="11" rx="2.5" />
          <rect x="3" y="18" width="11" height="11" rx="2.5" />
          <rect x="18" y="18" width="11" height="11" rx="2.5" className="brand-mark-accent" />
        </svg>
        <h1>MicroLab</h1>
      </div>
      <p className={`engine-state engine-${engine.kind}`} role="status" aria-label="Engine connection">
        <span className="engine-dot" aria-hidden="true" />
        {describe(engine)}
      </p>
    </header>
  );
}
