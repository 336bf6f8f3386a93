/**
 * Reads a YAML file and validates it with a zod schema. Every error names the file, the line, the field,
 * the value received and how to fix it, and carries a stable code (exit 2 at the CLI).
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode } from 'yaml';
import type { z } from 'zod';
import { InputError } from '../errors.js';

export interface YamlSource {
  file: string;
  data: unknown;
  /** 1-based line of the node at `path`, when the document has it. */
  lineOf(path: ReadonlyArray<PropertyKey>): number | undefined;
}

export function readYamlFile(file: string, what: string): YamlSource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError('E_FILE_NOT_FOUND', `${file}: cannot read ${what} (${code ?? String(err)}). Fix: check the path.`, { file, cause: err });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line ?? lineCounter.linePos(first.pos[0]).line;
    throw new InputError(
      'E_YAML_SYNTAX',
      `${file}:${line}: YAML syntax error in ${what}: ${first.message.split('\n')[0]}. Fix: correct the YAML at line ${line}.`,
      { file },
    );
  }
  return {
    file,
    data: doc.toJS(),
    lineOf(path) {
      // Walk up the path until a node with a position is found (a missing key has no node of its own).
      for (let n = path.length; n >= 0; n--) {
        const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
        if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
      }
      return undefined;
    },
  };
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function valueAt(data: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = data;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/** Validate parsed YAML with a schema; the first issue becomes an InputError naming file, line and field. */
export function validateYaml<S extends z.ZodType>(source: YamlSource, schema: S, what: string, hint: string): z.output<S> {
  const parsed = schema.safeParse(source.data);
  if (parsed.success) return parsed.data;
  // A misspelt key also makes the real key "missing": name the unknown key first, it is the cause.
  const issue = parsed.error.issues.find((i) => i.code === 'unrecognized_keys') ?? parsed.error.issues[0]!;
  const path = issue.path;
  const field = path.length > 0 ? path.map(String).join('.') : '(top level)';
  const line = source.lineOf(path);
  const where = line === undefined ? source.file : `${source.file}:${line}`;
  let detail: string;
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    detail = `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}${path.length ? ` in '${field}'` : ''}. Fix: remove ${keys.length > 1 ? 'them' : 'it'} or check the spelling (${hint}).`;
  } else {
    detail = `field '${field}': ${issue.message} (got ${describeValue(valueAt(source.data, path))}). Fix: ${hint}.`;
  }
  throw new InputError('E_SCHEMA', `${where}: invalid ${what}: ${detail}`, { file: source.file });
}
