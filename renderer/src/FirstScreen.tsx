import { useCallback, useEffect } from 'react';
import type { Api, DoctorReport } from '../../electron/api/contract';
import { CleanupCard } from './components/CleanupCard';
import { DoctorCard } from './components/DoctorCard';
import type { EngineState } from './components/Header';
import { Header } from './components/Header';
import { ImagesCard } from './components/ImagesCard';
import { NextCard, whatNext } from './components/NextCard';
import type { Loaded } from './hooks/useLoader';
import { useLoader } from './hooks/useLoader';
import { useTask } from './hooks/useTask';

/** The first screen once MicroLab answers: the machine, the images, what next, and clean up. */
export function FirstScreen({ api }: { api: Api }) {
  const doctor = useLoader(useCallback(() => api.call('engine:doctor', {}), [api]));
  const images = useLoader(useCallback(() => api.call('images:list', {}), [api]));
  const resources = useLoader(useCallback(() => api.call('resources:list', {}), [api]));

  const { reload: reloadDoctor } = doctor;
  const { reload: reloadImages } = images;
  const { reload: reloadResources } = resources;
  // Checking again, or the end of a task, looks at everything again.
  const refresh = useCallback(() => {
    reloadImages();
    reloadDoctor();
    reloadResources();
  }, [reloadDoctor, reloadImages, reloadResources]);
  // The doctor's firewall probe runs throwaway containers: count resources again once it is done.
  useEffect(() => {
    if (doctor.value) reloadResources();
  }, [doctor.value, reloadResources]);
  const prepare = useTask(api, 'images:prepare', refresh);
  const { start } = prepare;
  const onPrepare = useCallback(() => start(() => api.call('images:prepare', {})), [api, start]);

  return (
    <>
      <Header engine={engineState(doctor)} />
      <main className="layout">
        <div className="column">
          <DoctorCard doctor={doctor} onCheck={refresh} />
        </div>
        <div className="column">
          <ImagesCard images={images} prepare={prepare} onPrepare={onPrepare} />
          <NextCard next={whatNext(doctor, images, prepare.task)} />
          <CleanupCard api={api} resources={resources} />
        </div>
      </main>
    </>
  );
}

function engineState(doctor: Loaded<DoctorReport>): EngineState {
  const report = doctor.value;
  if (report?.endpoint) return { kind: 'connected', endpoint: report.endpoint };
  if (report || doctor.error) return { kind: 'not-connected', to: 'a Docker engine' };
  return { kind: 'checking' };
}
