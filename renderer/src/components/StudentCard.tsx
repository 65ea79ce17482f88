import { useCallback, useEffect, useState } from 'react';
import type { Api } from '../../../electron/api/contract';
import type { UiError } from '../errors';
import { toUiError } from '../errors';
import { useLoader } from '../hooks/useLoader';
import { Card } from './Card';
import { ErrorNotice } from './ErrorNotice';

/**
 * Who is working here: the student's name (and id), saved with the progress through
 * `student:set` and carried by every export, so that an instructor tells the room's students
 * apart (the computer's account often is the same on every machine).
 */
export function StudentCard({ api }: { api: Api }) {
  const info = useLoader(useCallback(() => api.call('student:get', {}), [api]));
  const [name, setName] = useState('');
  const [id, setId] = useState('');
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<UiError>();
  const current = info.value?.student;

  // The form starts from the name in effect.
  useEffect(() => {
    setName(current?.name ?? '');
    setId(current?.id ?? '');
  }, [current?.name, current?.id]);

  const save = () => {
    setSaving(true);
    setError(undefined);
    api.call('student:set', { name, ...(id.trim() ? { id } : {}) }).then(
      () => {
        setSaving(false);
        info.reload();
      },
      (err: unknown) => {
        setError(toUiError(err));
        setSaving(false);
      },
    );
  };
  const fromEnv = info.value?.source === 'env';
  const unchanged = name.trim() === (current?.name ?? '') && id.trim() === (current?.id ?? '');

  return (
    <Card title="You">
      {info.error && <ErrorNotice title="Could not read your name" error={info.error} />}
      {info.value && (
        <p className="student-now">
          {current ? (
            <>
              Your progress and its exports carry the name <strong>{current.name}</strong>
              {current.id && <> (id {current.id})</>}
              {fromEnv && (
                <span className="muted"> (from MICROLAB_STUDENT, which overrides what you save here)</span>
              )}
              .
            </>
          ) : (
            'Tell your instructor who you are: your name goes with your progress and every export.'
          )}
        </p>
      )}
      <form
        className="student-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) save();
        }}
      >
        <label className="field">
          <span className="field-label">Your name</span>
          <input
            type="text"
            value={name}
            maxLength={100}
            autoComplete="name"
            onChange={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <label className="field">
          <span className="field-label">Student id (optional)</span>
          <input type="text" value={id} maxLength={64} onChange={(e) => setId(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={saving || !name.trim() || unchanged}>
          {saving ? 'Saving…' : 'Save'}
        </button>
      </form>
      {error && <ErrorNotice title="Your name was not saved" error={error} />}
    </Card>
  );
}
