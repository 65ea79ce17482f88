import { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import type { ChangeEvent } from 'react';
import type { Api, DeploymentName, WorkloadStatus } from '../../../../electron/api/contract';
import type {
  PolicyApplyResult,
  PolicyIssue,
  PolicyPreview,
  ShippedPolicyInfo,
} from '../../../../electron/api/firewall';
import { DEPLOYMENTS, MODES } from '../../../../electron/api/vocabulary';
import type { Mode } from '../../../../electron/api/vocabulary';
import type { UiError } from '../../errors';
import { toUiError } from '../../errors';
import { plural } from '../../format';
import { useLoader } from '../../hooks/useLoader';
import { Card } from '../Card';
import { ErrorNotice } from '../ErrorNotice';
import { ExpectedMatrix } from './ExpectedMatrix';
import type { PolicyCodeEditorHandle } from './PolicyCodeEditor';
import { PolicyCodeEditor } from './PolicyCodeEditor';
import type { DeploymentVocabulary } from './policy-language';

type ModeChoice = 'policy' | Mode;

const MODE_LABEL: Record<Mode, string> = {
  off: 'off (nothing loaded)',
  monitor: 'monitor (log, never block)',
  enforce: 'enforce',
};
const MODE_CHOICES: { value: ModeChoice; label: string }[] = [
  { value: 'policy', label: 'as the policy says' },
  ...MODES.map((value) => ({ value, label: MODE_LABEL[value] })),
];

const PLACEHOLDER = `# Paste a policy, or open a file (labs/policies has examples)
mode: enforce
defaultAction: deny
segments:
  app: { selector: { tier: app } }
  data: { selector: { tier: db } }
rules:
  - id: app-to-data
    from: { segment: app }
    to: { segment: data }
    ports: [5432]
    action: allow`;

type Outcome =
  | { kind: 'valid' }
  | { kind: 'invalid'; issues: PolicyIssue[] }
  | { kind: 'applied'; result: PolicyApplyResult }
  | { kind: 'error'; error: UiError; action: string };

/** The shipped policies in groups: the running deployment's first, then the other's, then the rest. */
function groupShipped(list: ShippedPolicyInfo[], running: DeploymentName | undefined) {
  const order: (DeploymentName | undefined)[] = running
    ? [running, ...DEPLOYMENTS.filter((d) => d !== running), undefined]
    : [...DEPLOYMENTS, undefined];
  return order
    .map((deployment) => ({
      label:
        deployment === undefined
          ? 'For any deployment'
          : `For the ${deployment}${deployment === running ? ' (running)' : ''}`,
      policies: list.filter((p) => p.deployment === deployment).sort((a, b) => a.name.localeCompare(b.name)),
    }))
    .filter((g) => g.policies.length > 0);
}

/** The workload names and selector labels (with their values) of what runs, for completion. */
function vocabularyOf(workloads: WorkloadStatus[]): DeploymentVocabulary {
  const labels: Record<string, Set<string>> = {};
  for (const w of workloads) for (const [k, v] of Object.entries(w.labels)) (labels[k] ??= new Set()).add(v);
  return {
    workloads: [...new Set(workloads.map((w) => w.workload))].sort(),
    labels: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, [...v].sort()])),
  };
}

/** The last validation of the text as typed (the editor's lint pass). */
type Live = { text: string; issues: PolicyIssue[] } | { text: string; error: UiError };

/**
 * A policy to apply: one shipped with the labs (picked from a list grouped by deployment,
 * its header's first line shown, and copied into the editor on request), or a text typed,
 * pasted or opened from a file in a code editor that completes keys and values, explains
 * them on hover and underlines problems as you type; a mode; and Validate / Apply. While the
 * text is valid, its expected matrix against what runs now is shown before it is applied.
 * Apply validates first: a policy with issues is never sent to be applied, and its issues are
 * listed with line and column (a click puts the cursor there).
 */
/**
 * A file of the student's lab workspace: the editor opens it, and every edit is saved back to
 * it (so a step's apply buttons, which apply `workspace:FILE`, apply what the editor holds).
 * `version` changes when it may have changed on disk (a step's action handed it out).
 */
export interface WorkspaceFile {
  lab: string;
  file: string;
  version: string;
}

export function PolicyEditorCard({
  api,
  running,
  workloads = [],
  refreshKey = '',
  workspace,
  onApplied,
}: {
  api: Api;
  /** The deployment running, whose policies come first. */
  running?: DeploymentName;
  /** The running workloads: completion offers their names and labels. */
  workloads?: WorkloadStatus[];
  /** Changes when the policy in force or the running containers change: the expected matrix is computed again. */
  refreshKey?: string;
  workspace?: WorkspaceFile;
  onApplied: () => void;
}) {
  const [text, setText] = useState('');
  const [fileName, setFileName] = useState<string>();
  const saved = useWorkspaceFile(api, workspace, (loaded) => {
    setText(loaded);
    setFileName(`your workspace: ${workspace?.file ?? ''}`);
    setPicked('');
  });
  /** The shipped policy picked (its file), or '' for the text. */
  const [picked, setPicked] = useState('');
  const [mode, setMode] = useState<ModeChoice>('policy');
  const [busy, setBusy] = useState<'validating' | 'applying'>();
  const [outcome, setOutcome] = useState<Outcome>();
  const editor = useRef<PolicyCodeEditorHandle>(null);
  const shipped = useLoader(useCallback(() => api.call('policy:list', {}), [api]));
  const chosen = shipped.value?.find((p) => p.file === picked);
  const source = chosen ? { file: chosen.file } : { text };
  const [live, setLive] = useState<Live>();
  const [preview, setPreview] = useState<{
    key: string;
    loading: boolean;
    value?: PolicyPreview;
    error?: UiError;
  }>();
  const workloadKey = workloads.map((w) => `${w.container}:${JSON.stringify(w.labels)}`).join('|');
  // The vocabulary changes only when the workloads do (status polls bring fresh objects).
  const vocabulary = useMemo(() => vocabularyOf(workloads), [workloadKey]);

  const lint = useCallback(
    async (draft: string): Promise<PolicyIssue[]> => {
      try {
        const result = await api.call('policy:validate', { text: draft });
        setLive({ text: draft, issues: result.issues });
        return result.issues;
      } catch (err) {
        setLive({ text: draft, error: toUiError(err) });
        return [];
      }
    },
    [api],
  );

  // The expected matrix of what would be applied: a shipped file, or the text once it validates.
  const liveValid = live && 'issues' in live && live.issues.length === 0 && live.text === text;
  const previewSource = chosen
    ? { file: chosen.file }
    : liveValid && text.trim() !== ''
      ? { text }
      : undefined;
  const previewKey = previewSource ? JSON.stringify([previewSource, mode, refreshKey]) : '';
  useEffect(() => {
    if (!previewKey) return;
    const [input, modeChoice] = JSON.parse(previewKey) as [{ file: string } | { text: string }, ModeChoice];
    let current = true;
    setPreview((p) => ({ key: previewKey, loading: true, ...(p?.value ? { value: p.value } : {}) }));
    api.call('policy:evaluate', { ...input, ...(modeChoice === 'policy' ? {} : { mode: modeChoice }) }).then(
      (value) => current && setPreview({ key: previewKey, loading: false, value }),
      (err: unknown) => current && setPreview({ key: previewKey, loading: false, error: toUiError(err) }),
    );
    return () => {
      current = false;
    };
  }, [api, previewKey]);

  const validate = async (): Promise<boolean> => {
    const result = await api.call('policy:validate', source);
    if (!result.valid) setOutcome({ kind: 'invalid', issues: result.issues });
    return result.valid;
  };

  const onValidate = () => {
    setBusy('validating');
    setOutcome(undefined);
    validate().then(
      (valid) => {
        if (valid) setOutcome({ kind: 'valid' });
        setBusy(undefined);
      },
      (err: unknown) => {
        setOutcome({ kind: 'error', error: toUiError(err), action: 'Could not validate the policy' });
        setBusy(undefined);
      },
    );
  };

  const onApply = () => {
    setBusy('applying');
    setOutcome(undefined);
    const run = async (): Promise<PolicyApplyResult | undefined> => {
      if (!(await validate())) return undefined;
      return api.call('policy:apply', { ...source, ...(mode === 'policy' ? {} : { mode }) });
    };
    run().then(
      (result) => {
        if (result) {
          setOutcome({ kind: 'applied', result });
          onApplied();
        }
        setBusy(undefined);
      },
      (err: unknown) => {
        setOutcome({ kind: 'error', error: toUiError(err), action: 'Could not apply the policy' });
        setBusy(undefined);
      },
    );
  };

  const onFile = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.currentTarget.files?.[0];
    event.currentTarget.value = '';
    if (!file) return;
    file.text().then(
      (content) => {
        setText(content);
        setFileName(file.name);
        setPicked('');
        setOutcome(undefined);
      },
      (err: unknown) =>
        setOutcome({ kind: 'error', error: toUiError(err), action: `Could not read ${file.name}` }),
    );
  };

  const titleId = useId();
  const goTo = (issue: PolicyIssue) => editor.current?.select(issue.line, issue.column);
  const { save } = saved;
  const onText = useCallback(
    (next: string) => {
      setText(next);
      if (save) save(next);
      else setFileName(undefined);
    },
    [save],
  );

  const empty = !chosen && text.trim() === '';
  const groups = groupShipped(shipped.value ?? [], running);
  return (
    <Card
      title="Apply a policy"
      actions={
        <label className="file-button">
          <input type="file" accept=".yaml,.yml,.json,text/yaml" onChange={onFile} />
          Open file…
        </label>
      }
    >
      <label className="field">
        <span className="field-label">Policy</span>
        <select
          value={picked}
          onChange={(e) => {
            setPicked(e.currentTarget.value);
            setOutcome(undefined);
          }}
          aria-describedby={chosen ? titleId : undefined}
        >
          <option value="">Your own: paste it or open a file</option>
          {groups.map((g) => (
            <optgroup key={g.label} label={g.label}>
              {g.policies.map((p) => (
                <option key={p.file} value={p.file}>
                  {p.name}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      </label>
      {shipped.error && (
        <p className="muted small">The shipped policies could not be listed: {shipped.error.message}</p>
      )}
      {chosen ? (
        <div className="shipped-policy">
          <p id={titleId} className="shipped-title">
            {chosen.title}
          </p>
          <p className="muted small">
            Shipped with the labs{chosen.deployment ? `, for the ${chosen.deployment}` : ''}
            {running && chosen.deployment && chosen.deployment !== running
              ? ` (the ${running} runs now: its workloads may not match this policy's selectors)`
              : ''}
            . Its text shows under “Policy in force” once applied.{' '}
            <button
              type="button"
              className="link"
              onClick={() => {
                setText(chosen.text);
                setFileName(chosen.name);
                setPicked('');
                setOutcome(undefined);
              }}
            >
              Edit a copy
            </button>
          </p>
        </div>
      ) : (
        <div className="field">
          <span className="field-label">
            Policy text (YAML){fileName && <span className="muted"> · from {fileName}</span>}
            <LiveState live={live} text={text} />
            {saved.state && (
              <span
                className={`small ${saved.state.kind === 'error' ? 'bad' : 'muted'}`}
                data-saved={saved.state.kind}
                {...(saved.state.kind === 'saved' ? { title: saved.state.path } : {})}
              >
                {' '}
                {saved.state.kind === 'saved'
                  ? '· saved in your workspace'
                  : saved.state.kind === 'saving'
                    ? '· saving…'
                    : `· not saved: ${saved.state.message}`}
              </span>
            )}
          </span>
          <PolicyCodeEditor
            ref={editor}
            value={text}
            onChange={onText}
            validate={lint}
            vocabulary={vocabulary}
            placeholder={PLACEHOLDER}
            label="Policy text"
          />
          <p className="muted small">
            Ctrl+Space completes keys and values; hover a key for what it means; problems are underlined as
            you type.
          </p>
        </div>
      )}
      <div className="actions-row">
        <label className="inline-field">
          <span>Mode</span>
          <select
            aria-label="Mode"
            value={mode}
            onChange={(e) => setMode(e.currentTarget.value as ModeChoice)}
          >
            {MODE_CHOICES.map((m) => (
              <option key={m.value} value={m.value}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
        <span className="spacer" />
        <button type="button" onClick={onValidate} disabled={empty || !!busy}>
          {busy === 'validating' ? 'Validating…' : 'Validate'}
        </button>
        <button type="button" className="primary" onClick={onApply} disabled={empty || !!busy}>
          {busy === 'applying' ? 'Applying…' : 'Apply'}
        </button>
      </div>
      {outcome?.kind === 'valid' && (
        <div className="notice notice-success" role="status">
          <p className="notice-title">The policy is valid</p>
          <p className="notice-message">Nothing was applied yet.</p>
        </div>
      )}
      {outcome?.kind === 'invalid' && <Issues issues={outcome.issues} onGoTo={goTo} />}
      {outcome?.kind === 'error' && <ErrorNotice title={outcome.action} error={outcome.error} />}
      {outcome?.kind === 'applied' && <Applied result={outcome.result} />}
      {previewSource && preview?.key === previewKey && preview.error && (
        <ErrorNotice title="The expected matrix could not be computed" error={preview.error} />
      )}
      {previewSource && preview?.value && preview.value.flows.length > 0 && (
        <ExpectedMatrix preview={preview.value} stale={preview.loading || preview.key !== previewKey} />
      )}
      {previewSource && preview?.value?.flows.length === 0 && (
        <p className="muted small">The expected matrix of this policy shows here once a deployment runs.</p>
      )}
    </Card>
  );
}

/** What the last pass over the text as typed found. */
function LiveState({ live, text }: { live?: Live; text: string }) {
  if (!live || live.text !== text || text.trim() === '') return null;
  if ('error' in live)
    return <span className="live-state live-state-unknown"> · not checked: {live.error.message}</span>;
  return live.issues.length === 0 ? (
    <span className="live-state live-state-ok"> · valid</span>
  ) : (
    <span className="live-state live-state-bad"> · {plural(live.issues.length, 'problem')} underlined</span>
  );
}

function Issues({ issues, onGoTo }: { issues: PolicyIssue[]; onGoTo: (issue: PolicyIssue) => void }) {
  return (
    <div className="notice notice-error" role="alert">
      <p className="notice-title">
        The policy has {plural(issues.length, 'problem')}; nothing was applied, the policy in force stays.
      </p>
      <ol className="issues">
        {issues.map((issue, i) => (
          <li key={i}>
            <button type="button" className="link issue-position" onClick={() => onGoTo(issue)}>
              Line {issue.line}, column {issue.column}
            </button>
            : {issue.message}
            {issue.path && <span className="muted mono small"> ({issue.path})</span>}
          </li>
        ))}
      </ol>
    </div>
  );
}

function Applied({ result }: { result: PolicyApplyResult }) {
  const { report } = result;
  const failed = report.tables.filter((t) => t.error);
  return (
    <div className={`notice ${failed.length ? 'notice-error' : 'notice-success'}`} role="status">
      <p className="notice-title">
        Applied {result.name ? <span className="mono">{result.name}</span> : 'the policy'}
        {result.mode ? ` in ${result.mode} mode` : ''}
      </p>
      <p className="notice-message">
        {report.instances === 0
          ? 'No workload runs yet: it goes into force as they start.'
          : `${plural(report.instances, 'workload instance')}: ${report.loaded} loaded, ${report.unchanged} unchanged, ${report.failed} failed, in ${report.durationMs} ms.`}
      </p>
      {failed.length > 0 && (
        <ul className="notice-list">
          {failed.map((t) => (
            <li key={t.container}>
              <span className="mono">{t.container}</span>: {t.error}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

type SaveState = { kind: 'saving' } | { kind: 'saved'; path: string } | { kind: 'error'; message: string };

/**
 * Opens a workspace file when it is named (and again when its version changes), and returns a
 * `save` that writes every edit back, one write after another, with the state of the last one.
 */
function useWorkspaceFile(
  api: Api,
  workspace: WorkspaceFile | undefined,
  onLoaded: (text: string) => void,
): { save?: (text: string) => void; state?: SaveState } {
  const [state, setState] = useState<SaveState>();
  const [ready, setReady] = useState(false);
  const queue = useRef<Promise<unknown>>(Promise.resolve());
  const loaded = useRef(onLoaded);
  loaded.current = onLoaded;
  const lab = workspace?.lab;
  const file = workspace?.file;
  const version = workspace?.version;
  useEffect(() => {
    setReady(false);
    setState(undefined);
    if (!lab || !file) return;
    let current = true;
    api.call('labs:read', { lab, file }).then(
      (read) => {
        if (!current) return;
        loaded.current(read.text);
        setState({ kind: 'saved', path: read.file });
        setReady(true);
      },
      // Not handed out yet: the editor stays as it is until a step puts it in the workspace.
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [api, lab, file, version]);
  const save = useCallback(
    (text: string) => {
      if (!lab || !file) return;
      setState({ kind: 'saving' });
      queue.current = queue.current.then(() =>
        api.call('labs:save', { lab, file, text }).then(
          (r) => setState({ kind: 'saved', path: r.file }),
          (err: unknown) => setState({ kind: 'error', message: toUiError(err).message }),
        ),
      );
    },
    [api, lab, file],
  );
  return ready ? { save, ...(state ? { state } : {}) } : state ? { state } : {};
}
