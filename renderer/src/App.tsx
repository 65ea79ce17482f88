import { useEffect, useState } from 'react';
import type { Api, DoctorReport } from '../../electron/api/contract';
import { connectApi } from './api';

export function App() {
  const [api, setApi] = useState<Api>();
  const [error, setError] = useState<string>();
  const [report, setReport] = useState<DoctorReport>();
  useEffect(() => {
    connectApi().then(setApi, (e: Error) => setError(e.message));
  }, []);
  useEffect(() => {
    if (api) api.call('engine:doctor', {}).then(setReport, (e: Error) => setError(e.message));
  }, [api]);
  return (
    <main>
      <h1>MicroLab</h1>
      {error && <p role="alert">{error}</p>}
      {report && (
        <ul>
          {report.checks.map((c) => (
            <li key={c.id}>
              {c.title}: {c.status} {c.summary}
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}
