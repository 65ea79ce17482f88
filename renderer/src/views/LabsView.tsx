import { useCallback, useEffect, useState } from 'react';
import type { Api, DeploymentStatus, LabStatus } from '../../../electron/api/contract';
import type { PolicyShow } from '../../../electron/api/firewall';
import { CallError } from '../components/CallError';
import { LabMap } from '../components/labs/LabMap';
import { LabPage } from '../components/labs/LabPage';
import type { Loaded } from '../hooks/useLoader';
import { useLoader } from '../hooks/useLoader';
import { useClassStatus } from '../hooks/useClassStatus';

/**
 * The guided labs: the map of labs, or one lab open. The lab open is the active one the
 * services report (so a reload of the UI opens it again where it stopped), or one picked
 * on the map.
 */
export function LabsView({
  api,
  labStatus,
  deployment,
  policy,
  active,
  onChanged,
}: {
  api: Api;
  labStatus: Loaded<LabStatus>;
  deployment: Loaded<DeploymentStatus>;
  policy: Loaded<PolicyShow>;
  active: boolean;
  onChanged: () => void;
}) {
  const list = useLoader(useCallback(() => api.call('labs:list', {}), [api]));
  // In a class whose instructor released labs, the map marks which (a student alone sees none).
  const { status: klass } = useClassStatus(api);
  const released = klass?.joined && klass.released.length > 0 ? klass.released : undefined;
  const [open, setOpen] = useState<string | null>();
  const activeLab = labStatus.value?.lab;
  // Once the services say which lab is active, it is the one open (until the student goes back).
  useEffect(() => {
    if (activeLab) setOpen((o) => (o === undefined ? activeLab : o));
  }, [activeLab]);
  const { reload: reloadList } = list;
  const changed = useCallback(() => {
    reloadList();
    onChanged();
  }, [reloadList, onChanged]);

  if (open)
    return (
      <main className="layout layout-lab">
        <LabPage
          key={open}
          api={api}
          lab={open}
          labStatus={labStatus}
          deployment={deployment}
          policy={policy}
          active={active}
          onBack={() => {
            setOpen(null);
            reloadList();
          }}
          onChanged={changed}
        />
      </main>
    );
  return (
    <main className="layout layout-single">
      <section className="labs-intro">
        <h2>Guided labs</h2>
        <p className="muted">
          Each lab backs a claim with numbers you measure on this machine: microservices (how the application
          is split) and microsegmentation (how the network is split) are independent choices. Start top left;
          each card says how long it takes and how far you are.
        </p>
      </section>
      {list.error && <CallError title="Could not list the labs" error={list.error} />}
      {!list.value && list.loading && <p className="placeholder">Reading the labs…</p>}
      {list.value && <LabMap list={list.value} onOpen={setOpen} released={released} />}
    </main>
  );
}
