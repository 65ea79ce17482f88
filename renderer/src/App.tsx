import { ErrorNotice } from './components/ErrorNotice';
import { Header } from './components/Header';
import { FirstScreen } from './FirstScreen';
import { useConnection } from './hooks/useConnection';

export function App() {
  const connection = useConnection();
  if (connection.state === 'connected') return <FirstScreen api={connection.api} />;
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
