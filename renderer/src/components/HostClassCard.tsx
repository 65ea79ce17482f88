import { useCallback, useEffect, useState } from 'react';
import type { ClassHostStatus, ClassInterface } from '../../../electron/api/class';
import type { Api } from '../../../electron/api/contract';
import type { UiError } from '../errors';
import { toUiError } from '../errors';
import { useInterval } from '../hooks/useInterval';
import { Card } from './Card';
import { ErrorNotice } from './ErrorNotice';

/** How often a running class's status is read again (joiners waiting), ms. */
const HOST_POLL_MS = 2000;

/** The port `microlab class host` takes unless told (services/class-host.ts: DEFAULT_CLASS_PORT). */
const DEFAULT_PORT = '8443';

/**
 * The interface to preselect: the class in progress's own, else the only one that is not
 * loopback, else none (never every interface: the instructor picks the classroom's network).
 */
export function preselectedInterface(list: ClassInterface[], inProgress?: string): string {
  if (inProgress) return inProgress;
  const outside = list.filter((i) => !i.internal && i.ipv4.length > 0);
  return outside.length === 1 ? outside[0]!.name : '';
}

/**
 * Hosting a live class from the app, for the instructor: an interface (one, picked), a port and
 * auto-approve; then the join code to show the room (with a copy button), its QR code, the
 * certificate's fingerprint, the dashboard (opens in the browser: it holds the instructor's
 * token), the joiners waiting, and the end of the class.
 */
export function HostClassCard({ api }: { api: Api }) {
  const [status, setStatus] = useState<ClassHostStatus>();
  const [interfaces, setInterfaces] = useState<ClassInterface[]>();
  const [iface, setIface] = useState('');
  const [port, setPort] = useState(DEFAULT_PORT);
  const [autoApprove, setAutoApprove] = useState(false);
  const [fresh, setFresh] = useState(false);
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<UiError>();

  useEffect(() => {
    let live = true;
    Promise.all([api.call('class:host-status', {}), api.call('class:interfaces', {})]).then(
      ([s, list]) => {
        if (!live) return;
        setStatus(s);
        setInterfaces(list);
        setIface(preselectedInterface(list, s.running ? s.interface : s.inProgress?.interface));
      },
      (err: unknown) => {
        if (live) setError(toUiError(err));
      },
    );
    return () => {
      live = false;
    };
  }, [api]);

  const poll = useCallback(() => {
    api.call('class:host-status', {}).then(setStatus, () => undefined);
  }, [api]);
  useInterval(poll, HOST_POLL_MS, Boolean(status?.running));

  const act = (run: () => Promise<ClassHostStatus>) => {
    setBusy(true);
    setError(undefined);
    run().then(
      (s) => {
        setStatus(s);
        setBusy(false);
      },
      (err: unknown) => {
        setError(toUiError(err));
        setBusy(false);
      },
    );
  };
  const portValid = /^[0-9]{1,5}$/.test(port) && Number(port) <= 65535;
  const inProgress = status && !status.running ? status.inProgress : undefined;

  return (
    <Card title="Host a class">
      {status && !status.running && interfaces && (
        <form
          className="class-host-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (!iface || !portValid) return;
            act(() =>
              api.call('class:host', {
                interface: iface,
                port: Number(port),
                autoApprove,
                ...(inProgress && fresh ? { fresh: true } : {}),
              }),
            );
          }}
        >
          <p className="muted">
            For the instructor: students join with the code this shows, and their progress comes to your
            dashboard. The class listens on the one interface you pick, that of the classroom&apos;s network.
          </p>
          {inProgress && (
            <p className="class-in-progress">
              A class is in progress on {inProgress.interface} ({inProgress.address}, port {inProgress.port},{' '}
              {inProgress.students} students): Start picks it up again.
            </p>
          )}
          <label className="field">
            <span className="field-label">Interface</span>
            <select
              value={iface}
              disabled={Boolean(inProgress && !fresh)}
              onChange={(e) => setIface(e.currentTarget.value)}
            >
              <option value="">Pick the classroom&apos;s network…</option>
              {interfaces.map((i) => (
                <option key={i.name} value={i.name} disabled={i.ipv4.length === 0}>
                  {i.name} {i.ipv4.join(' ') || '(no IPv4 address)'}
                  {i.internal ? ' (this machine only)' : ''}
                </option>
              ))}
            </select>
          </label>
          {(!inProgress || fresh) && (
            <>
              <label className="field">
                <span className="field-label">Port</span>
                <input
                  inputMode="numeric"
                  value={port}
                  aria-invalid={!portValid}
                  onChange={(e) => setPort(e.currentTarget.value.trim())}
                />
              </label>
              <label className="inline-field">
                <input
                  type="checkbox"
                  checked={autoApprove}
                  onChange={(e) => setAutoApprove(e.currentTarget.checked)}
                />{' '}
                Let every student in without asking (auto-approve)
              </label>
            </>
          )}
          {inProgress && (
            <label className="inline-field">
              <input
                type="checkbox"
                checked={fresh}
                onChange={(e) => {
                  const on = e.currentTarget.checked;
                  setFresh(on);
                  if (!on) setIface(inProgress.interface);
                }}
              />{' '}
              Start a new class instead (the class in progress ends for good)
            </label>
          )}
          {!portValid && <p className="class-host-invalid">A port is a whole number from 0 to 65535.</p>}
          <button type="submit" disabled={busy || !iface || !portValid}>
            {busy ? 'Starting…' : inProgress && !fresh ? 'Pick the class up again' : 'Start the class'}
          </button>
        </form>
      )}
      {status?.running && (
        <div className="class-hosting">
          <p className="class-phase" data-phase="hosting">
            {status.resumed ? 'Class picked up again' : 'Class started'} on {status.interface} (
            {status.address}), port {status.port}: {status.students} student{status.students === 1 ? '' : 's'}
            {status.pending ? `, ${status.pending} waiting for you to let them in` : ''}.
          </p>
          <div className="field">
            <span className="field-label">Join code</span>
            <div className="class-code-row">
              <code className="class-join-code" aria-label="Join code">
                {status.joinCode}
              </code>
              <button
                type="button"
                onClick={() => {
                  navigator.clipboard.writeText(status.joinCode).then(
                    () => setCopied(true),
                    (err: unknown) => setError(toUiError(err)),
                  );
                }}
              >
                {copied ? 'Copied' : 'Copy'}
              </button>
            </div>
          </div>
          <img
            className="class-qr"
            alt="The join code as a QR code"
            src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(status.qrSvg)}`}
          />
          <p className="class-fingerprint">
            Certificate SHA-256: <code>{status.fingerprint}</code>
          </p>
          <p>
            <a href={status.dashboardUrl} target="_blank" rel="noreferrer noopener">
              Open the dashboard
            </a>{' '}
            <span className="muted">
              (approve joins, messages, releases, catch-ups; keep its address to yourself: it holds your
              token)
            </span>
          </p>
          <button
            type="button"
            disabled={busy}
            onClick={() => {
              setCopied(false);
              act(() => api.call('class:host-end', {}));
            }}
          >
            {busy ? 'Ending…' : 'End the class'}
          </button>
        </div>
      )}
      {error && <ErrorNotice title="Could not host the class" error={error} />}
    </Card>
  );
}
