import { useCallback, useEffect } from 'react';
import type { Api, DoctorReport } from '../../electron/api/contract';
import { CleanupCard } from './components/CleanupCard';
import { DoctorCard } from './components/DoctorCard';
import { HostClassCard } from './components/HostClassCard';
import { ImagesCard } from './components/ImagesCard';
import { JoinClassCard } from './components/JoinClassCard';
import { NextCard, whatNext } from './components/NextCard';
import { StudentCard } from './components/StudentCard';
import type { ViewName } from './components/Tabs';
import type { Loaded } from './hooks/useLoader';
import { useLoader } from './hooks/useLoader';
import { useTask } from './hooks/useTask';

/** The first screen: who you are (and your class), the machine, the images, what next, and clean up. */
export function FirstScreen({
  api,
  doctor,
  onOpen,
}: {
  api: Api;
  doctor: Loaded<DoctorReport>;
  onOpen: (view: ViewName) => void;
}) {
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
  // Deployments come and go from the other views: the clean up card counts them again.
  useEffect(
    () =>
      api.on('tasks:update', (task) => {
        if (task.kind.startsWith('deploy:') && task.state !== 'running') reloadResources();
      }),
    [api, reloadResources],
  );
  const prepare = useTask(api, 'images:prepare', refresh);
  const { start } = prepare;
  const onPrepare = useCallback(() => start(() => api.call('images:prepare', {})), [api, start]);

  return (
    <main className="layout">
      <div className="column">
        <StudentCard api={api} />
        <JoinClassCard api={api} />
        <DoctorCard doctor={doctor} onCheck={refresh} />
      </div>
      <div className="column">
        <ImagesCard images={images} prepare={prepare} onPrepare={onPrepare} />
        <NextCard next={whatNext(doctor, images, prepare.task)} onOpen={onOpen} />
        <CleanupCard api={api} resources={resources} />
        <HostClassCard api={api} />
      </div>
    </main>
  );
}
