import { useCallback, useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import type { Api, DoctorReport } from '../../electron/api/contract';
import type { EngineState } from './components/Header';
import { Header } from './components/Header';
import { EngineBanner } from './components/EngineBanner';
import type { ViewName } from './components/Tabs';
import { Tabs } from './components/Tabs';
import { FirstScreen } from './FirstScreen';
import { TerminalDock } from './terminal/TerminalDock';
import { TerminalProvider } from './terminal/TerminalContext';
import type { Loaded } from './hooks/useLoader';
import { useLoader } from './hooks/useLoader';
import { useInterval } from './hooks/useInterval';
import { DeploymentView } from './views/DeploymentView';
import { FirewallView } from './views/FirewallView';
import { LabsView } from './views/LabsView';
import { LoadView } from './views/LoadView';
import { TableView } from './views/TableView';

/** How often the deployment and the policy in force are read again while a lab view is open. */
const POLL_MS = 3000;
const POLLED = { keepValue: true };

/**
 * MicroLab once it answers: the header, the tabs, and the views (first screen, labs, the three
 * lab views, the 2×2 table). Views stay mounted when
 * hidden (a followed task, a flow log or a load chart survive a look elsewhere); only the
 * visible one polls.
 */
export function Lab({ api }: { api: Api }) {
  const [view, setView] = useState<ViewName>('first');
  const doctor = useLoader(useCallback(() => api.call('engine:doctor', {}), [api]));
  const deployment = useLoader(
    useCallback(() => api.call('deploy:status', {}), [api]),
    POLLED,
  );
  const policy = useLoader(
    useCallback(() => api.call('policy:show', {}), [api]),
    POLLED,
  );

  // The active lab and where the student is: the services keep it, so a reload resumes there.
  const labStatus = useLoader(
    useCallback(() => api.call('labs:status', {}), [api]),
    POLLED,
  );

  const { reload: reloadDeployment } = deployment;
  const { reload: reloadPolicy } = policy;
  const { reload: reloadLabStatus } = labStatus;
  const refresh = useCallback(() => {
    reloadDeployment();
    reloadPolicy();
  }, [reloadDeployment, reloadPolicy]);
  const labChanged = useCallback(() => {
    refresh();
    reloadLabStatus();
  }, [refresh, reloadLabStatus]);
  useInterval(refresh, POLL_MS, view === 'deployment' || view === 'firewall' || view === 'labs');
  // Opening a lab view shows it as it is now, not as it was when last seen.
  useEffect(() => {
    if (view !== 'first') refresh();
  }, [view, refresh]);
  // Any deployment task that ends changes what runs.
  useEffect(
    () =>
      api.on('tasks:update', (task) => {
        if (task.kind.startsWith('deploy:') && task.state !== 'running') refresh();
      }),
    [api, refresh],
  );

  return (
    <TerminalProvider api={api}>
      <Header engine={engineState(doctor)} />
      <EngineBanner api={api} />
      <Tabs view={view} onChange={setView} deployment={deployment.value} />
      <TabPanel name="first" view={view}>
        <FirstScreen api={api} doctor={doctor} onOpen={setView} />
      </TabPanel>
      <TabPanel name="labs" view={view}>
        <LabsView
          api={api}
          labStatus={labStatus}
          deployment={deployment}
          policy={policy}
          active={view === 'labs'}
          onChanged={labChanged}
        />
      </TabPanel>
      <TabPanel name="deployment" view={view}>
        <DeploymentView
          api={api}
          status={deployment}
          policy={policy}
          active={view === 'deployment'}
          onChanged={refresh}
        />
      </TabPanel>
      <TabPanel name="firewall" view={view}>
        <FirewallView
          api={api}
          status={deployment}
          policy={policy}
          active={view === 'firewall'}
          onChanged={refresh}
          onOpen={setView}
        />
      </TabPanel>
      <TabPanel name="load" view={view}>
        <LoadView api={api} status={deployment} onOpen={setView} />
      </TabPanel>
      <TabPanel name="table" view={view}>
        <TableView api={api} active={view === 'table'} />
      </TabPanel>
      <TerminalDock />
    </TerminalProvider>
  );
}

function TabPanel({ name, view, children }: { name: ViewName; view: ViewName; children: ReactNode }) {
  return (
    <div role="tabpanel" id={`panel-${name}`} aria-labelledby={`tab-${name}`} hidden={view !== name}>
      {children}
    </div>
  );
}

function engineState(doctor: Loaded<DoctorReport>): EngineState {
  const report = doctor.value;
  if (report?.endpoint) return { kind: 'connected', endpoint: report.endpoint };
  if (report || doctor.error) return { kind: 'not-connected', to: 'a Docker engine' };
  return { kind: 'checking' };
}
