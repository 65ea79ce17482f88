/**
 * The one reader of MicroLab's YAML files (policies, labs, and every YAML format to come):
 * parse with positions, validate against a zod schema and the format's own checks, and place
 * every problem at file:line:column. YAML's warnings are kept: beside the errors when the file
 * fails, and returned with the value when it does not.
 */
import { isMap, isNode, isPair, isScalar, LineCounter, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { z } from 'zod';

/** One problem in a file, placed; the shape the API carries for policies and labs alike. */
export interface FileIssue {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Dotted path in the document, e.g. "rules.2.ports.0"; "" for the whole file. */
  path: string;
  message: string;
}

/** A problem found in the parsed value, before it is placed: where in the document, and what. */
export interface PathIssue {
  path: (string | number)[];
  message: string;
  /** Point at the key of the last path element rather than at its value. */
  atKey?: boolean;
}

/** A YAML format: its schema, its limits and the words its messages use. */
export interface YamlFormat<S extends z.ZodType> {
  schema: S;
  /** Larger files are refused before parsing. */
  maxBytes: number;
  /** The format with an article, as a sentence names it: "a policy", "a lab". */
  noun: string;
  /** Said when the document holds nothing ("the policy is empty"). */
  empty: string;
  /** zod's error map: words for what the schema did not word itself. */
  error?: z.core.$ZodErrorMap;
  /** What a schema cannot say (references, duplicates), checked once the schema passed. */
  check?: (value: z.output<S>) => PathIssue[];
  /** An unknown field's message gets this after it, e.g. " (fields: id, from, to)". */
  fieldHint?: (path: (string | number)[]) => string;
  /** The message for a value no branch of a union takes (default: zod's). */
  unionMessage?: (path: (string | number)[]) => string;
}

export type YamlRead<T> = { ok: true; value: T; warnings: FileIssue[] } | { ok: false; issues: FileIssue[] };

/**
 * Reads `text` (the content of `file`) as `format`. On success, the schema's output and YAML's
 * warnings; otherwise every problem, sorted by line and column: YAML errors and warnings, or
 * else schema problems, or else the format's own checks. Aliases expand at most 100 times.
 */
export function readYaml<S extends z.ZodType>(
  text: string,
  file: string,
  format: YamlFormat<S>,
): YamlRead<z.output<S>> {
  const at = (line: number, column: number, path: string, message: string): FileIssue => ({
    file,
    line,
    column,
    path,
    message,
  });
  const failed = (issues: FileIssue[]) => ({ ok: false as const, issues: sortIssues(issues) });
  const tooLarge = sizeIssue(file, Buffer.byteLength(text, 'utf8'), format);
  if (tooLarge) return failed([tooLarge]);

  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    strict: true,
  });
  const yamlIssue = (e: (typeof doc.errors)[number] | (typeof doc.warnings)[number]) => {
    const pos = e.linePos?.[0] ?? lines.linePos(e.pos[0]);
    return at(pos.line, pos.col, '', `bad YAML: ${e.message.split('\n')[0]}`);
  };
  const warnings = doc.warnings.map(yamlIssue);
  if (doc.errors.length) return failed([...doc.errors.map(yamlIssue), ...warnings]);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return failed([at(1, 1, '', `bad YAML: ${(err as Error).message}`)]);
  }
  if (data === null || data === undefined) return failed([at(1, 1, '', format.empty)]);

  const place = (issues: PathIssue[]) =>
    issues.map((issue) => {
      const node = nodeAt(doc, issue.path, issue.atKey ?? false);
      const pos = lines.linePos(node?.range?.[0] ?? 0);
      return at(pos.line, pos.col, issue.path.join('.'), issue.message);
    });
  const parsed = format.schema.safeParse(data, format.error ? { error: format.error } : undefined);
  if (!parsed.success) return failed(place(flattenIssues(parsed.error.issues, format)));
  const own = format.check?.(parsed.data) ?? [];
  if (own.length) return failed(place(own));
  return { ok: true, value: parsed.data, warnings };
}

/**
 * The problem of a file of `bytes` bytes when that is more than `format` allows; a caller that
 * sees a file's size before reading it asks here first.
 */
export function sizeIssue(
  file: string,
  bytes: number,
  format: Pick<YamlFormat<z.ZodType>, 'maxBytes' | 'noun'>,
): FileIssue | undefined {
  if (bytes <= format.maxBytes) return undefined;
  return {
    file,
    line: 1,
    column: 1,
    path: '',
    message: `the file is ${bytes} bytes; ${format.noun} may be at most ${format.maxBytes} bytes`,
  };
}

/** By line, then column (a stable sort: issues at one place keep their order). */
export function sortIssues<I extends { line: number; column: number }>(issues: I[]): I[] {
  return [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
}

/**
 * zod's issues as path issues. A union's error lists every branch; the one branch that got
 * past the type check says what is wrong (with no such single branch, `unionMessage`). Unknown
 * and invalid keys point at the key.
 */
function flattenIssues(
  issues: z.core.$ZodIssue[],
  format: Pick<YamlFormat<z.ZodType>, 'fieldHint' | 'unionMessage'>,
  prefix: PropertyKey[] = [],
): PathIssue[] {
  const out: PathIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path].map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (issue.code === 'invalid_union' && issue.errors.length) {
      const rootMismatch = (x: z.core.$ZodIssue) =>
        x.path.length === 0 && (x.code === 'invalid_type' || x.code === 'invalid_value');
      const branches = issue.errors.filter((b) => b.length && !b.every(rootMismatch));
      if (branches.length === 1) {
        out.push(...flattenIssues(branches[0]!, format, path));
        continue;
      }
      out.push({ path, message: format.unionMessage?.(path) ?? issue.message });
      continue;
    }
    if (issue.code === 'invalid_key') {
      for (const inner of issue.issues) out.push({ path, message: inner.message, atKey: true });
      continue;
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({
          path: [...path, key],
          message: `unknown field "${key}"${format.fieldHint?.(path) ?? ''}`,
          atKey: true,
        });
      continue;
    }
    out.push({ path, message: issue.message });
  }
  return out;
}

/** The node at `path` (or its key, `atKey`), or the nearest one above it that exists. */
function nodeAt(doc: Document, path: (string | number)[], atKey: boolean): Node | undefined {
  for (let n = path.length; n >= 0; n--) {
    const sub = path.slice(0, n);
    if (atKey && n === path.length && n > 0) {
      const parent = doc.getIn(sub.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === sub.at(-1));
        if (pair && isNode(pair.key)) return pair.key;
      }
      continue;
    }
    const node = n === 0 ? doc.contents : doc.getIn(sub, true);
    if (isNode(node)) return node;
  }
  return undefined;
}
