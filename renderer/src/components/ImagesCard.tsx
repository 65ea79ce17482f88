import type { ImageInfo } from '../../../electron/api/contract';
import type { Loaded } from '../hooks/useLoader';
import type { FollowedTask } from '../hooks/useTask';
import { formatBytes } from '../format';
import { Card } from './Card';
import { CallError, ENGINE_UNREACHABLE } from './CallError';
import { ErrorNotice } from './ErrorNotice';
import { TaskPanel } from './TaskPanel';

/** The images the labs need, and the task that provides them. */
export function ImagesCard({
  images,
  prepare,
  onPrepare,
}: {
  images: Loaded<ImageInfo[]>;
  prepare: FollowedTask;
  onPrepare: () => void;
}) {
  const running = prepare.starting || prepare.task?.state === 'running';
  const missing = images.value?.some((i) => i.required && !i.present) ?? false;
  // Preparing needs the engine; the doctor card says how to get one.
  const noEngine = images.error?.code === ENGINE_UNREACHABLE;
  return (
    <Card
      title="Images"
      actions={
        <button
          type="button"
          className={missing ? 'primary' : undefined}
          onClick={onPrepare}
          disabled={running || noEngine}
        >
          {running ? 'Preparing…' : 'Prepare images'}
        </button>
      }
    >
      {images.error && <CallError title="Could not list the images" error={images.error} />}
      {!images.value && images.loading && <p className="placeholder">Looking for images…</p>}
      {images.value && <ImageTable images={images.value} />}
      {prepare.error && <ErrorNotice title="Prepare images" error={prepare.error} />}
      {prepare.task && (
        <TaskPanel task={prepare.task} canceling={prepare.canceling} onCancel={prepare.cancel} />
      )}
    </Card>
  );
}

function ImageTable({ images }: { images: ImageInfo[] }) {
  if (images.length === 0) return <p className="placeholder">MicroLab knows no images yet.</p>;
  return (
    <table className="images">
      <thead>
        <tr>
          <th scope="col">Image</th>
          <th scope="col">Role</th>
          <th scope="col">Architecture</th>
          <th scope="col" className="numeric">
            Size
          </th>
          <th scope="col">State</th>
        </tr>
      </thead>
      <tbody>
        {images.map((image) => (
          <tr key={image.name}>
            <td className="mono">{image.name}</td>
            <td>
              {image.role}
              {!image.required && <span className="muted"> (not required)</span>}
            </td>
            <td>{image.architecture ?? '—'}</td>
            <td className="numeric">
              {image.present && image.sizeBytes !== undefined ? formatBytes(image.sizeBytes) : '—'}
            </td>
            <td>
              <span className={`badge ${image.present ? 'badge-ok' : 'badge-bad'}`}>
                {image.present ? 'present' : 'missing'}
              </span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
