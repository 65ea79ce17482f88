import {
  autocompletion,
  closeBrackets,
  closeBracketsKeymap,
  completionKeymap,
} from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { yaml, yamlLanguage } from '@codemirror/lang-yaml';
import {
  bracketMatching,
  defaultHighlightStyle,
  indentOnInput,
  syntaxHighlighting,
} from '@codemirror/language';
import type { Diagnostic } from '@codemirror/lint';
import { linter, lintGutter, lintKeymap } from '@codemirror/lint';
import { EditorSelection, EditorState } from '@codemirror/state';
import type { Text } from '@codemirror/state';
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  hoverTooltip,
  keymap,
  lineNumbers,
  placeholder as placeholderText,
} from '@codemirror/view';
import { useEffect, useImperativeHandle, useRef } from 'react';
import type { Ref } from 'react';
import type { PolicyIssue } from '../../../../electron/api/firewall';
import type { DeploymentVocabulary } from './policy-language';
import { policyCompletion, policyHover } from './policy-language';

/** How long typing must pause before the text is validated by the services. */
export const LINT_DELAY_MS = 400;

export interface PolicyCodeEditorHandle {
  /** Focuses the editor and selects the token at a 1-based line and column (an issue's place). */
  select(line: number, column: number): void;
}

/**
 * The editor's look. CodeMirror injects its styles at run time, which the app's CSP
 * (style-src 'self') refuses as inline <style> elements; inside a shadow root they become
 * constructed style sheets, which the CSP does not govern. So the editor lives in a shadow
 * root, and its look (in the app's colours, which inherit into it) is defined here.
 */
const THEME = EditorView.theme({
  '&': {
    minHeight: '260px',
    maxHeight: '520px',
    fontSize: '12.5px',
    color: 'var(--text)',
    background: 'var(--surface-sunken)',
    border: '1px solid var(--border-strong)',
    borderRadius: '6px',
  },
  '&.cm-focused': { outline: '2px solid var(--accent)', outlineOffset: '-1px' },
  '.cm-scroller': { fontFamily: 'var(--font-mono)', lineHeight: '1.45', minHeight: '258px' },
  '.cm-content': { caretColor: 'var(--text)' },
  '.cm-gutters': {
    background: 'var(--surface-sunken)',
    color: 'var(--skip)',
    borderRight: '1px solid var(--border)',
    borderRadius: '6px 0 0 6px',
  },
  '.cm-activeLine, .cm-activeLineGutter': { background: 'rgb(127 127 127 / 8%)' },
  '.cm-placeholder': { color: 'var(--skip)' },
  '.cm-tooltip': {
    color: 'var(--text)',
    background: 'var(--surface)',
    border: '1px solid var(--border-strong)',
    borderRadius: '6px',
    fontFamily: 'var(--font)',
  },
  '.cm-tooltip-autocomplete > ul > li[aria-selected]': {
    background: 'var(--accent)',
    color: 'var(--accent-text)',
  },
  '.cm-policy-hover': { maxWidth: '360px', padding: '6px 8px', fontSize: '12px' },
  '.cm-policy-hover p': { margin: '4px 0 0' },
});

/** Where an issue's line and column are in the text, and the token that starts there. */
export function issueRange(doc: Text, issue: { line: number; column: number }): { from: number; to: number } {
  const line = doc.line(Math.min(Math.max(issue.line, 1), doc.lines));
  const from = line.from + Math.max(0, Math.min(issue.column - 1, line.length));
  const token = /^[^\s,\]}]+/.exec(line.text.slice(from - line.from))?.[0] ?? '';
  const to = token ? from + token.length : line.to;
  return to > from ? { from, to } : { from: Math.max(line.from, from - 1), to: Math.max(from, line.to) };
}

/**
 * The policy text as a code editor (CodeMirror 6): YAML highlighting, completion and hover
 * from the policy schema (and the running workloads), and problems underlined at their line
 * and column as you type: `validate` is called with the text once typing pauses
 * (LINT_DELAY_MS), and what it returns is drawn; a reply for an older text is dropped.
 */
export function PolicyCodeEditor({
  value,
  onChange,
  validate,
  vocabulary,
  placeholder,
  label,
  ref,
}: {
  value: string;
  onChange: (text: string) => void;
  /** The issues of a text ([] when it is valid); called after typing pauses. */
  validate: (text: string) => Promise<PolicyIssue[]>;
  vocabulary: DeploymentVocabulary;
  placeholder: string;
  /** The accessible name of the text box. */
  label: string;
  ref?: Ref<PolicyCodeEditorHandle>;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView>(null);
  // The latest props, read by the editor's extensions (created once).
  const latest = useRef({ onChange, validate, vocabulary });
  useEffect(() => {
    latest.current = { onChange, validate, vocabulary };
  }, [onChange, validate, vocabulary]);

  useEffect(() => {
    const lint = linter(
      async (v): Promise<Diagnostic[]> => {
        const doc = v.state.doc;
        if (doc.toString().trim() === '') return [];
        const issues = await latest.current.validate(doc.toString());
        return issues.map((issue) => ({
          ...issueRange(doc, issue),
          severity: 'error',
          message: issue.message,
          ...(issue.path ? { source: issue.path } : {}),
        }));
      },
      { delay: LINT_DELAY_MS },
    );
    const shadow = host.current!.shadowRoot ?? host.current!.attachShadow({ mode: 'open' });
    const editor = new EditorView({
      parent: shadow,
      root: shadow,
      state: EditorState.create({
        doc: value,
        extensions: [
          lineNumbers(),
          highlightActiveLineGutter(),
          history(),
          drawSelection(),
          indentOnInput(),
          bracketMatching(),
          closeBrackets(),
          highlightActiveLine(),
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          THEME,
          yaml(),
          yamlLanguage.data.of({ autocomplete: policyCompletion(() => latest.current.vocabulary) }),
          autocompletion(),
          hoverTooltip(policyHover),
          lint,
          lintGutter(),
          placeholderText(placeholder),
          keymap.of([
            ...closeBracketsKeymap,
            ...defaultKeymap,
            ...historyKeymap,
            ...completionKeymap,
            ...lintKeymap,
            indentWithTab,
          ]),
          EditorView.contentAttributes.of({ 'aria-label': label, spellcheck: 'false' }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) latest.current.onChange(update.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = editor;
    return () => {
      editor.destroy();
      view.current = null;
    };
    // The editor is created once; later values arrive through the effect below.
  }, []);

  // A text set from outside (a file opened, a shipped policy copied) replaces the document.
  useEffect(() => {
    const editor = view.current;
    if (editor && editor.state.doc.toString() !== value)
      editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: value } });
  }, [value]);

  useImperativeHandle(
    ref,
    () => ({
      select(line, column) {
        const editor = view.current;
        if (!editor) return;
        const { from, to } = issueRange(editor.state.doc, { line, column });
        editor.focus();
        editor.dispatch({ selection: EditorSelection.range(from, to), scrollIntoView: true });
      },
    }),
    [],
  );

  return <div className="code-editor" ref={host} />;
}
