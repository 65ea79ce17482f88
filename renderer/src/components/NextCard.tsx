import type { DoctorReport, ImageInfo, TaskInfo } from '../../../electron/api/contract';
import type { Loaded } from '../hooks/useLoader';
import { Card } from './Card';
import type { ViewName } from './Tabs';
import { RichText } from './RichText';

type Next = { tone: 'wait' | 'todo' | 'ready'; headline: string; text: string; open?: ViewName };

/**
 * What the user can do next, said honestly: fix the machine, provide the images, then open
 * the guided labs (or start a deployment of the shop by hand).
 */
export function whatNext(
  doctor: Loaded<DoctorReport>,
  images: Loaded<ImageInfo[]>,
  task: TaskInfo | undefined,
): Next {
  if (task?.state === 'running') {
    return {
      tone: 'wait',
      headline: 'Preparing images…',
      text: 'This card says what comes next when the task ends.',
    };
  }
  const report = doctor.value;
  if (!report || !images.value) {
    if (doctor.loading || images.loading)
      return { tone: 'wait', headline: 'Checking this machine…', text: 'This takes a few seconds.' };
  }
  if (report && !report.endpoint) {
    return {
      tone: 'todo',
      headline: 'Start a Docker engine first',
      text: 'MicroLab runs everything on a local Docker engine. See “Engine and machine” for what was tried and how to fix it, then check again.',
    };
  }
  if (!report || !images.value) {
    return {
      tone: 'todo',
      headline: 'Fix the errors above first',
      text: 'MicroLab could not look at this machine; the cards above say why.',
    };
  }
  const missing = images.value.filter((i) => i.required && !i.present);
  if (missing.length) {
    return {
      tone: 'todo',
      headline: 'Prepare images first',
      text: `The labs need ${missing.map((i) => i.name).join(', ')}. Use “Prepare images” in the Images card; offline, import the classroom bundle with \`microlab images import FILE\`.`,
    };
  }
  const failed = report.checks.filter((c) => c.status === 'fail');
  if (failed.length) {
    return {
      tone: 'todo',
      headline: 'Fix the failed checks first',
      text: `Not ready: ${failed.map((c) => c.title).join(', ')}. Each one says how to fix it under “Engine and machine”.`,
    };
  }
  return {
    tone: 'ready',
    headline: 'This machine is ready',
    text: 'The engine and the images are in place. Open the guided labs and start top left, or explore on your own: start the shop as a monolith or as microservices in the Deployment view, put a firewall around it and load it.',
    open: 'labs',
  };
}

export function NextCard({ next, onOpen }: { next: Next; onOpen: (view: ViewName) => void }) {
  const open = next.open;
  return (
    <Card title="Next">
      <div className={`next next-${next.tone}`} role="status" aria-live="polite">
        <p className="next-headline">{next.headline}</p>
        <p className="next-text">
          <RichText text={next.text} />
        </p>
        {open && (
          <p className="next-action">
            <button type="button" className="primary" onClick={() => onOpen(open)}>
              Open the labs
            </button>{' '}
            <button type="button" onClick={() => onOpen('deployment')}>
              Open the Deployment view
            </button>
          </p>
        )}
      </div>
    </Card>
  );
}
