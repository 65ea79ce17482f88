import { ErrorNotice } from './components/ErrorNotice';
import { Header } from './components/Header';
import { Lab } from './Lab';
import { useConnection } from './hooks/useConnection';
import { ClassView, classToken } from './views/ClassView';

export function App() {
  // Served by `microlab class host` with the instructor token in the fragment: the class's dashboard.
  const token = classToken(window.location.hash);
  return token ? <ClassView token={token} /> : <Connected />;
}

function Connected() {
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
