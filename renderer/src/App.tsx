import { ErrorNotice } from './components/ErrorNotice';
import { Header } from './components/Header';
import { Lab } from './Lab';
import { useConnection } from './hooks/useConnection';

export function App() {
  const connection = useConnection();
  if (connection.state === 'connected') return <Lab api={connection.api} />;
  return (
    <>
      <Header
        engine={
          connection.state === 'connecting' ? { kind: 'checking' } : { kind: 'not-connected', to: 'MicroLab' }
        }
      />
      <main className="layout layout-single">
        {connection.state === 'connecting' ? (
          <p className="placeholder">Connecting to MicroLab…</p>
        ) : (
          <ErrorNotice title="Cannot connect to MicroLab" error={connection.error} />
        )}
      </main>
    </>
  );
}
