/**
 * What the policy editor knows of the policy language, from its published JSON Schema
 * (labs/policies/policy.schema.json, generated from the parser's own zod schema): where in
 * the document the cursor is (a path of keys), which keys and values fit there (completion),
 * and what a key means (hover). The running deployment adds what the schema cannot know:
 * workload names, selector labels and their values; the text adds its own segment names.
 *
 * Works on text as typed, often broken YAML: the path comes from indentation and the flow
 * brackets on the cursor's line, not from a parse.
 */
import type { CompletionContext, CompletionResult, Completion } from '@codemirror/autocomplete';
import type { Text } from '@codemirror/state';
import type { EditorView, Tooltip } from '@codemirror/view';
import { parse } from 'yaml';
import schemaJson from '../../../../labs/policies/policy.schema.json';

/** The subset of JSON Schema the policy schema uses. */
export interface SchemaNode {
  type?: string | string[];
  description?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  required?: string[];
}

export const POLICY_SCHEMA = schemaJson as SchemaNode;

/** What the running deployment tells completion: workload names, and labels with their values. */
export interface DeploymentVocabulary {
  workloads: string[];
  labels: Record<string, string[]>;
}

/** A path segment: a mapping key, or ITEM for an element of a sequence. */
export const ITEM = '[]';

export interface CursorContext {
  /** The keys from the document's root to the mapping (or sequence) the cursor is in. */
  path: string[];
  /** key: the cursor is where a key goes; value: after `key:`, or an element of a sequence (key ITEM). */
  position: 'key' | 'value';
  key?: string;
  /** Where the word under the cursor starts. */
  from: number;
}

const KEY_ON_LINE = /^(\s*)((?:-\s+)*)(?:([A-Za-z0-9_.$"'-]+)\s*:(?:\s|$))?/;

interface LineShape {
  /** Column of the first dash, or of the key when there is none. */
  start: number;
  dashes: number;
  /** Column and name of the line's block key, if any. */
  keyColumn: number;
  key?: string;
  /** Something follows `key:` on the line. */
  inlineValue: boolean;
}

function shapeOf(text: string): LineShape | undefined {
  if (/^\s*(#|$)/.test(text)) return undefined;
  const m = KEY_ON_LINE.exec(text)!;
  const indent = m[1]!.length;
  const dashes = (m[2]!.match(/-/g) ?? []).length;
  const keyColumn = indent + m[2]!.length;
  const key = m[3]?.replace(/^["']|["']$/g, '');
  return {
    start: indent,
    dashes,
    keyColumn,
    ...(key ? { key } : {}),
    inlineValue:
      key !== undefined &&
      text.slice(m[0].length).trim() !== '' &&
      !/^#/.test(text.slice(m[0].length).trim()),
  };
}

/** The block keys above line `lineNumber` that hold a line starting at `column`. */
function blockPath(doc: Text, lineNumber: number, column: number, startsWithDash: boolean): string[] {
  const path: string[] = [];
  let threshold = column;
  // A sequence may sit at its key's own indentation ("rules:\n- id: x").
  let dashChild = startsWithDash;
  for (let n = lineNumber - 1; n >= 1 && (threshold > 0 || dashChild); n--) {
    const shape = shapeOf(doc.line(n).text);
    if (!shape) continue;
    if (shape.dashes > 0) {
      if (shape.start >= threshold) continue; // a sibling item, or deeper
      if (shape.key && shape.keyColumn < threshold && !shape.inlineValue) {
        // "- from:" holding the current line
        path.unshift(ITEM, shape.key);
      } else {
        // a key of the same item as the current line
        path.unshift(ITEM);
      }
      threshold = shape.start;
      dashChild = true;
      continue;
    }
    if (!shape.key) continue;
    if (shape.keyColumn < threshold || (dashChild && shape.keyColumn === threshold)) {
      if (shape.inlineValue) break; // "key: value" holds nothing below it: broken indentation
      path.unshift(shape.key);
      threshold = shape.keyColumn;
      dashChild = false;
      if (threshold === 0) break;
    }
  }
  return path;
}

/** Where the cursor at `pos` is: the path of keys above it and whether a key or a value goes there. */
export function contextAt(doc: Text, pos: number): CursorContext {
  const line = doc.lineAt(pos);
  const before = line.text.slice(0, pos - line.from);
  const word = /[A-Za-z0-9_.$/-]*$/.exec(before)![0];
  const from = pos - word.length;
  const shape = shapeOf(line.text) ?? {
    start: before.search(/\S|$/),
    dashes: 0,
    keyColumn: 0,
    inlineValue: false,
  };
  const path = blockPath(doc, line.number, shape.start, shape.dashes > 0);
  for (let i = 0; i < shape.dashes; i++) path.push(ITEM);

  // The rest of the line before the cursor: `key:`s and flow brackets.
  const rest = before.slice(/^\s*(?:-\s+)*/.exec(before)![0].length);
  const flows: ('map' | 'seq')[] = [];
  let pending: string | undefined;
  const tokens =
    /([A-Za-z0-9_.$-]+|"[^"]*"|'[^']*')\s*:(?=\s|$)|[{}[\],]|"[^"]*"?|'[^']*'?|#.*$|[^\s{}[\],]+/g;
  for (const m of rest.matchAll(tokens)) {
    const t = m[0];
    if (m[1] !== undefined) pending = m[1].replace(/^["']|["']$/g, '');
    else if (t === '{' || t === '[') {
      path.push(pending ?? ITEM);
      flows.push(t === '{' ? 'map' : 'seq');
      pending = undefined;
    } else if (t === '}' || t === ']') {
      if (flows.pop()) path.pop();
      pending = undefined;
    } else if (t === ',') pending = undefined;
  }
  if (pending !== undefined) return { path, position: 'value', key: pending, from };
  // An element of a sequence: the value at path + ITEM.
  if (flows.at(-1) === 'seq' || (flows.length === 0 && shape.dashes > 0 && shape.key === undefined))
    return { path: path.at(-1) === ITEM ? path.slice(0, -1) : path, position: 'value', key: ITEM, from };
  return { path, position: 'key', from };
}

function expand(node: SchemaNode | undefined): SchemaNode[] {
  if (!node) return [];
  const alternatives = node.anyOf ?? node.oneOf;
  if (alternatives) return alternatives.flatMap(expand);
  return [node];
}

function step(node: SchemaNode, key: string): SchemaNode[] {
  if (key === ITEM) {
    const types = ([] as string[]).concat(node.type ?? []);
    return node.items ? expand(node.items) : types.includes('array') ? [] : [];
  }
  const own = node.properties?.[key];
  if (own) return expand(own);
  if (node.additionalProperties && typeof node.additionalProperties === 'object')
    return expand(node.additionalProperties);
  return [];
}

/** The schemas that may describe the value at `path` (several where the schema offers a choice). */
export function schemasAt(path: string[], root: SchemaNode = POLICY_SCHEMA): SchemaNode[] {
  let nodes = expand(root);
  for (const key of path) nodes = nodes.flatMap((n) => step(n, key));
  return nodes;
}

function describe(node: SchemaNode): string {
  const parts: string[] = [];
  if (node.description) parts.push(node.description);
  const values = node.enum ?? (node.const !== undefined ? [node.const] : undefined);
  if (values) parts.push(`One of: ${values.map(String).join(', ')}.`);
  else if (node.type) parts.push(`A ${[node.type].flat().join(' or ')}.`);
  if (node.default !== undefined) parts.push(`Default: ${JSON.stringify(node.default)}.`);
  return parts.join(' ');
}

/** The segment names the text defines, for `segment:` values. */
function segmentNames(doc: Text): string[] {
  try {
    const data = parse(doc.toString()) as { segments?: Record<string, unknown> } | null;
    return data?.segments && typeof data.segments === 'object' ? Object.keys(data.segments) : [];
  } catch {
    return [];
  }
}

/** Keys and values that fit where the cursor is. */
export function completionsAt(
  doc: Text,
  pos: number,
  vocabulary: DeploymentVocabulary,
): { from: number; options: Completion[] } {
  const context = contextAt(doc, pos);
  const options: Completion[] = [];
  if (context.position === 'key') {
    const last = context.path.at(-1);
    if (last === 'selector') {
      for (const label of Object.keys(vocabulary.labels).sort())
        options.push({
          label,
          type: 'property',
          apply: `${label}: `,
          detail: 'label of the running workloads',
        });
    }
    const seen = new Set<string>();
    for (const node of schemasAt(context.path)) {
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        if (seen.has(key) || key === '$schema') continue;
        seen.add(key);
        const info = expand(child).map(describe).filter(Boolean).join(' ');
        options.push({ label: key, type: 'property', apply: `${key}: `, ...(info ? { info } : {}) });
      }
    }
    return { from: context.from, options };
  }
  const key = context.key!;
  const parent = context.path.at(-1);
  if (key === 'segment')
    for (const s of segmentNames(doc)) options.push({ label: s, type: 'variable', detail: 'segment' });
  if (key === 'workload' || (key === ITEM && parent === 'workloads'))
    for (const w of vocabulary.workloads)
      options.push({ label: w, type: 'variable', detail: 'running workload' });
  if (parent === 'selector')
    for (const v of vocabulary.labels[key] ?? [])
      options.push({ label: v, type: 'constant', detail: `${key} label` });
  const seen = new Set<string>();
  for (const node of schemasAt([...context.path, key])) {
    for (const value of node.enum ?? (node.const !== undefined ? [node.const] : [])) {
      const label = String(value);
      if (seen.has(label)) continue;
      seen.add(label);
      options.push({ label, type: 'keyword' });
    }
    if ([node.type].flat().includes('boolean'))
      for (const label of ['true', 'false']) if (!seen.has(label)) options.push({ label, type: 'keyword' });
  }
  return { from: context.from, options };
}

/** A CodeMirror completion source over `completionsAt`; `vocabulary` is read at each call. */
export function policyCompletion(vocabulary: () => DeploymentVocabulary) {
  return (ctx: CompletionContext): CompletionResult | null => {
    const { from, options } = completionsAt(ctx.state.doc, ctx.pos, vocabulary());
    if (options.length === 0) return null;
    if (
      from === ctx.pos &&
      !ctx.explicit &&
      !/(:\s|[-{[,]\s?|^\s*)$/.test(
        ctx.state.doc.lineAt(ctx.pos).text.slice(0, ctx.pos - ctx.state.doc.lineAt(ctx.pos).from),
      )
    )
      return null;
    return { from, options, validFor: /^[A-Za-z0-9_.-]*$/ };
  };
}

/** What the key under the pointer means, from the schema: its description, values and default. */
export function keyHelpAt(
  doc: Text,
  pos: number,
): { from: number; to: number; key: string; text: string } | undefined {
  const line = doc.lineAt(pos);
  const offset = pos - line.from;
  const re = /([A-Za-z0-9_.$-]+)\s*:(?=\s|$)/g;
  for (const m of line.text.matchAll(re)) {
    const start = m.index;
    const end = start + m[1]!.length;
    if (offset < start || offset > end) continue;
    const context = contextAt(doc, line.from + start);
    const nodes = schemasAt([...context.path, m[1]!]);
    const text = [...new Set(nodes.map(describe).filter(Boolean))].join(' Or: ');
    if (!text) return undefined;
    return { from: line.from + start, to: line.from + end, key: m[1]!, text };
  }
  return undefined;
}

/** A CodeMirror hover source over `keyHelpAt`. */
export function policyHover(view: EditorView, pos: number): Tooltip | null {
  const help = keyHelpAt(view.state.doc, pos);
  if (!help) return null;
  return {
    pos: help.from,
    end: help.to,
    above: true,
    create: () => {
      const dom = document.createElement('div');
      dom.className = 'cm-policy-hover';
      const title = document.createElement('strong');
      title.textContent = help.key;
      const body = document.createElement('p');
      body.textContent = help.text;
      dom.append(title, body);
      return { dom };
    },
  };
}
