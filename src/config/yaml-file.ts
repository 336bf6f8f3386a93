/**
 * Reads a YAML file and validates it with a zod schema. Every problem names the file, the line and
 * column, the field, the value received and how to fix it, and carries a stable code (exit 2 at the CLI).
 * All problems of a file are reported together (InputProblems), never only the first.
 */
import { readFileSync, statSync } from 'node:fs';
import { isMap, isNode, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { InputError } from '../errors.js';
import { InputProblems, type Problem } from './problems.js';
import { firstInvalidUtf8, problemsOfIssue } from './yaml-issues.js';

/**
 * Alias expansions allowed per file (yaml's count: uses of an alias x the aliases inside its target).
 * yaml's default (100) refuses a plan whose tasks share one anchor 101 times; 100,000 lets every task
 * of the largest plan reuse one, and still stops a "billion laughs" document at its first alias.
 */
export const MAX_YAML_ALIAS_COUNT = 100_000;
/** Deepest nesting of maps and lists accepted (deeper values overflow the stack of JSON and IPC code). */
export const MAX_YAML_DEPTH = 256;

export type { Pos, YamlSource } from './yaml-source.js';
import type { Pos, YamlSource } from './yaml-source.js';

export interface ReadYamlOptions {
  /** Refuse a file larger than this before reading it (code E_TOO_LARGE). */
  maxBytes?: number | undefined;
  /** The flag or field that raises maxBytes, named in the message. */
  maxBytesFlag?: string | undefined;
  /** Checks on the text before it is parsed (a plan's task count); throws to refuse the file. */
  precheck?: ((text: string) => void) | undefined;
}

const limitError = (file: string, message: string, pos?: Pos): InputProblems =>
  new InputProblems([{ code: 'E_YAML_LIMIT', file, line: pos?.line, col: pos?.col, message }]);

/** Read and parse `file` (`what` names it in messages: "plan", "agent.yaml"). Throws InputError/InputProblems. */
export function readYamlFile(file: string, what: string, opts: ReadYamlOptions = {}): YamlSource {
  const text = readText(file, what, opts);
  opts.precheck?.(text);
  const lineCounter = new LineCounter();
  const posAt = (offset: number): Pos => lineCounter.linePos(offset);
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false });
  } catch (err) {
    if (err instanceof RangeError) throw limitError(file, `${what} is nested too deeply to parse. Fix: flatten it (at most ${MAX_YAML_DEPTH} levels).`);
    throw err;
  }
  if (doc.errors.length > 0) {
    throw new InputProblems(
      doc.errors.map((e): Problem => {
        const pos = e.linePos?.[0] ?? posAt(e.pos[0]);
        return { code: 'E_YAML_SYNTAX', file, line: pos.line, col: pos.col, message: `YAML syntax error in ${what}: ${e.message.split('\n')[0]}. Fix: correct the YAML at line ${pos.line}.` };
      }),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
  } catch (err) {
    if (err instanceof ReferenceError && /alias/i.test(err.message)) {
      throw limitError(file, `too many YAML aliases in ${what}: expanding them would exceed ${MAX_YAML_ALIAS_COUNT} nodes (a "billion laughs" document?). Fix: write the values out or reuse fewer anchors.`, firstAlias(doc, posAt));
    }
    if (err instanceof RangeError) throw limitError(file, `${what} is nested too deeply. Fix: flatten it (at most ${MAX_YAML_DEPTH} levels).`);
    throw err;
  }
  const deep = tooDeep(data);
  if (deep) throw limitError(file, `${what} nests maps and lists more than ${MAX_YAML_DEPTH} levels deep. Fix: flatten it.`, nodePos(doc, deep, posAt));
  const posOf = (path: ReadonlyArray<PropertyKey>): Pos | undefined => {
    // Walk up the path until a node with a position is found (a missing key has no node of its own).
    for (let n = path.length; n >= 0; n--) {
      const pos = nodePos(doc, path.slice(0, n), posAt);
      if (pos) return pos;
    }
    return undefined;
  };
  return {
    file,
    data,
    posOf,
    lineOf: (path) => posOf(path)?.line,
    keyPosOf(path, key) {
      const map = path.length === 0 ? doc.contents : doc.getIn(path as unknown[], true);
      if (isMap(map)) {
        const pair = map.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === key);
        if (pair && isNode(pair.key) && pair.key.range) return posAt(pair.key.range[0]);
      }
      return posOf(path);
    },
  };
}

function nodePos(doc: Document.Parsed, path: ReadonlyArray<PropertyKey>, posAt: (o: number) => Pos): Pos | undefined {
  const node = path.length === 0 ? doc.contents : doc.getIn(path as unknown[], true);
  return isNode(node) && node.range ? posAt(node.range[0]) : undefined;
}

function firstAlias(doc: Document.Parsed, posAt: (o: number) => Pos): Pos | undefined {
  let pos: Pos | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (node.range) pos = posAt(node.range[0]);
      return visit.BREAK;
    },
  });
  return pos;
}

/** Path of a value nested deeper than MAX_YAML_DEPTH, or undefined. Iterative (no stack to overflow). */
function tooDeep(data: unknown): PropertyKey[] | undefined {
  const stack: Array<{ value: unknown; path: PropertyKey[] }> = [{ value: data, path: [] }];
  const seen = new Set<object>(); // aliases share objects: visit each once
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (value === null || typeof value !== 'object' || seen.has(value)) continue;
    seen.add(value);
    if (path.length >= MAX_YAML_DEPTH) return path;
    const entries: Array<[PropertyKey, unknown]> = Array.isArray(value) ? value.map((v, i) => [i, v]) : value instanceof Map ? [...value.entries()] : Object.entries(value);
    for (const [k, v] of entries) stack.push({ value: v, path: [...path, k] });
  }
  return undefined;
}

/** The file's text; a missing file, a directory, a file over the size limit or bytes that are not UTF-8 are input errors. */
function readText(file: string, what: string, opts: ReadYamlOptions): string {
  let buf: Buffer;
  try {
    const st = statSync(file);
    if (st.isDirectory()) {
      throw new InputError('E_FILE_NOT_FOUND', `${file}: is a directory, expected the ${what} file. Fix: pass the path of the file itself.`, { file });
    }
    if (opts.maxBytes !== undefined && st.size > opts.maxBytes) {
      throw new InputError('E_TOO_LARGE', `${file}: ${what} is ${st.size} bytes, over the limit of ${opts.maxBytes}. Fix: split it, or raise the limit with ${opts.maxBytesFlag ?? 'the size option'} (docs/plans.md).`, { file });
    }
    buf = readFileSync(file);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError('E_FILE_NOT_FOUND', `${file}: cannot read ${what} (${code ?? String(err)}). Fix: check the path${code === 'EACCES' ? ' and its permissions' : ''}.`, { file, cause: err });
  }
  const bad = firstInvalidUtf8(buf);
  if (bad !== undefined) {
    const before = buf.subarray(0, bad);
    const line = before.filter((b) => b === 0x0a).length + 1;
    const col = bad - (before.lastIndexOf(0x0a) + 1) + 1;
    throw new InputProblems([{ code: 'E_YAML_SYNTAX', file, line, col, message: `${what} is not UTF-8 text (byte 0x${buf[bad]!.toString(16).padStart(2, '0')} at offset ${bad}). Fix: save the file as UTF-8.` }]);
  }
  return buf.toString('utf8');
}

/** Validated data, or every schema problem with its own position. */
export function schemaProblems<S extends z.ZodType>(source: YamlSource, schema: S, what: string, hint: string): { data: z.output<S> } | { problems: Problem[] } {
  if (source.data === null || source.data === undefined) {
    return { problems: [{ code: 'E_SCHEMA', file: source.file, line: 1, col: 1, message: `invalid ${what}: the file is empty. Fix: ${hint}.` }] };
  }
  const parsed = schema.safeParse(source.data);
  if (parsed.success) return { data: parsed.data };
  const problems = parsed.error.issues.flatMap((issue) => problemsOfIssue(source, issue, what, hint));
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  return { problems };
}

/** Validate parsed YAML with a schema; every issue is reported at once (InputProblems). */
export function validateYaml<S extends z.ZodType>(source: YamlSource, schema: S, what: string, hint: string): z.output<S> {
  const res = schemaProblems(source, schema, what, hint);
  if ('problems' in res) throw new InputProblems(res.problems);
  return res.data;
}
