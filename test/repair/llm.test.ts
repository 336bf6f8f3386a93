import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CLI, cleanupTempDirs, expectAllGone, readJson, ROOT, tempDir } from '../helpers.js';
import type { RunReport } from '../../src/observe/report.js';
import { llmConfigFromEnv, OpenAiChat, type LlmError } from '../../src/llm/openai.js';
import type { SearchResult } from '../../src/repair/search.js';

afterAll(cleanupTempDirs);

type Handler = (body: { model: string; messages: Array<{ role: string; content: string }> }, req: IncomingMessage, res: ServerResponse) => void;

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A small OpenAI-compatible endpoint on 127.0.0.1 whose answers the test decides. */
async function fakeEndpoint(handle: Handler): Promise<{ url: string; requests: Array<{ auth: string | undefined; body: unknown }> }> {
  const requests: Array<{ auth: string | undefined; body: unknown }> = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404).end('{"error":"not found"}');
        return;
      }
      const body = JSON.parse(raw) as Parameters<Handler>[0];
      requests.push({ auth: req.headers.authorization, body });
      handle(body, req, res);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, requests };
}

const completion = (content: string, usage = { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 }) => JSON.stringify({ id: 'x', object: 'chat.completion', model: 'fake-1', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage });

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as LlmError).code;
  }
}

describe('OpenAI-compatible adapter', () => {
  it('sends model, messages and the key; returns content and usage', async () => {
    const ep = await fakeEndpoint((_b, _q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(completion('hello')));
    const chat = new OpenAiChat({ baseUrl: ep.url, model: 'fake-1', apiKey: 'sk-test', timeoutMs: 5000 });
    const r = await chat.chat([{ role: 'user', content: 'hi' }]);
    expect(r).toEqual({ content: 'hello', model: 'fake-1', usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 } });
    expect(ep.requests[0]).toMatchObject({ auth: 'Bearer sk-test', body: { model: 'fake-1', messages: [{ role: 'user', content: 'hi' }] } });
  });

  it('reports HTTP errors, non-JSON, missing choices, time-outs and refused connections by code', async () => {
    let mode = 'http';
    const ep = await fakeEndpoint((_b, _q, res) => {
      if (mode === 'http') res.writeHead(500).end('{"error":"boom"}');
      else if (mode === 'garbage') res.writeHead(200).end('<html>not json');
      else if (mode === 'empty') res.writeHead(200).end('{"choices":[]}');
      else if (mode === 'slow') setTimeout(() => res.writeHead(200).end(completion('late')), 2000).unref();
    });
    const chat = new OpenAiChat({ baseUrl: ep.url, model: 'm', apiKey: undefined, timeoutMs: 300 });
    const msgs = [{ role: 'user' as const, content: 'x' }];
    expect(await code(chat.chat(msgs))).toBe('E_LLM_HTTP');
    mode = 'garbage';
    expect(await code(chat.chat(msgs))).toBe('E_LLM_PROTOCOL');
    mode = 'empty';
    expect(await code(chat.chat(msgs))).toBe('E_LLM_PROTOCOL');
    mode = 'slow';
    expect(await code(chat.chat(msgs))).toBe('E_LLM_TIMEOUT');
    const closed = await fakeEndpoint(() => {});
    const port = new URL(closed.url).port;
    const s = servers.pop()!;
    await new Promise((r) => s.close(r));
    expect(await code(new OpenAiChat({ baseUrl: `http://127.0.0.1:${port}/v1`, model: 'm', apiKey: undefined, timeoutMs: 2000 }).chat(msgs))).toBe('E_LLM_UNREACHABLE');
  });

  it('reads its configuration from the environment and rejects a half-configured one', () => {
    expect(llmConfigFromEnv({})).toBeUndefined();
    expect(llmConfigFromEnv({ AGENTOS_LLM_BASE_URL: 'http://127.0.0.1:1/v1/', AGENTOS_LLM_MODEL: 'm' })).toMatchObject({ baseUrl: 'http://127.0.0.1:1/v1', model: 'm', apiKey: undefined });
    expect(() => llmConfigFromEnv({ AGENTOS_LLM_BASE_URL: 'http://127.0.0.1:1/v1' })).toThrow(expect.objectContaining({ code: 'E_LLM_CONFIG' }));
    expect(() => llmConfigFromEnv({ AGENTOS_LLM_BASE_URL: 'not a url', AGENTOS_LLM_MODEL: 'm' })).toThrow(expect.objectContaining({ code: 'E_LLM_CONFIG' }));
  });
});

describe('model-backed planner and patch agent', () => {
  it('plans an unclassifiable goal with the model and charges its tokens to the planner', async () => {
    const ep = await fakeEndpoint((b, _q, res) => res.writeHead(200).end(completion(b.messages[0]!.content.includes('Classify') ? 'scan' : '{}', { prompt_tokens: 30, completion_tokens: 1, total_tokens: 31 })));
    const dir = tempDir();
    const out = join(dir, 'out');
    const res = await execa('node', [CLI, 'run', '--goal', 'tell me what is in examples/buggy_math', '--out', out, '--runs-dir', join(dir, 'runs')], {
      cwd: ROOT, reject: false, all: true, env: { AGENTOS_LLM_BASE_URL: ep.url, AGENTOS_LLM_MODEL: 'fake-1', AGENTOS_LLM_API_KEY: 'k' },
    });
    expect(res.exitCode, res.all).toBe(0);
    expect(res.stdout).toContain('PLAN (scan, by model)');
    const report = readJson<RunReport>(join(out, 'run-report.json'));
    expect(report.agents.find((a) => a.name === 'planner')!.tokens).toBe(31);
    expect(report.processes.find((p) => p.agent === 'planner')!.tokens_used).toBe(31);
    await expectAllGone(report.agents.flatMap((a) => a.pids));
  });

  it('validates the model\'s patches through the same test tasks, says which source won, survives malformed answers', async () => {
    // Scripted answer: a wrong patch first, then an edit of a test file, a line that does not exist, and the fix.
    const patches = [
      { file: 'src/stats.js', line: 15, replacement: '  return (sorted[mid - 1] * sorted[mid]) / 2;' },
      { file: 'test/stats.test.js', line: 14, replacement: "test('median of an even-length list', () => {});" },
      { file: 'src/stats.js', line: 400, replacement: 'x' },
      { file: 'src/stats.js', line: 15, replacement: '  return (sorted[mid - 1] + sorted[mid]) / 2;' },
    ];
    const prompts: string[] = [];
    const ep = await fakeEndpoint((b, _q, res) => {
      prompts.push(b.messages[1]!.content);
      res.writeHead(200).end(completion(`Here are my candidates:\n${JSON.stringify({ patches })}`));
    });
    const dir = tempDir();
    const out = join(dir, 'out');
    const env = { AGENTOS_LLM_BASE_URL: ep.url, AGENTOS_LLM_MODEL: 'fake-1' };
    const res = await execa('node', [CLI, 'repair', join(ROOT, 'examples/buggy_math'), '--out', out, '--runs-dir', join(dir, 'runs'), '--quiet'], { cwd: ROOT, reject: false, all: true, env, timeout: 150_000 });
    expect(res.exitCode, res.all).toBe(0);
    // The prompt carries the failing test and the suspicious lines.
    expect(prompts[0]).toContain('median of an even-length list');
    expect(prompts[0]).toMatch(/src\/stats\.js \(line 15[^\n]*\n[\s\S]*15> +return \(sorted\[mid - 1\] - sorted\[mid\]\) \/ 2;/);
    const report = readJson<RunReport>(join(out, 'run-report.json'));
    const search = report.tasks.find((t) => t.id === 'patch')!.output as SearchResult;
    expect(search.model.proposals).toBe(2);
    expect(search.model.rejected.join(' ')).toMatch(/edits a test file.*no line 400/);
    expect(search.candidates.slice(0, 2).map((c) => [c.source, c.verdict])).toEqual([['model', 'fail'], ['model', 'pass']]);
    expect(search.winner).toMatchObject({ source: 'model', kind: 'model' });
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('source: **model proposal**');
    expect(report.agents.find((a) => a.name === 'patch_agent')!.tokens).toBe(15);
    await expectAllGone(report.agents.flatMap((a) => a.pids));

    // A malformed answer: the error is recorded and the search still fixes the bug on its own.
    const garbled = await fakeEndpoint((_b, _q, r) => r.writeHead(200).end(completion('The bug is probably in stats.js, good luck!')));
    const out2 = join(dir, 'out2');
    const res2 = await execa('node', [CLI, 'repair', join(ROOT, 'examples/buggy_math'), '--out', out2, '--runs-dir', join(dir, 'runs'), '--quiet'], { cwd: ROOT, reject: false, all: true, env: { ...env, AGENTOS_LLM_BASE_URL: garbled.url }, timeout: 150_000 });
    expect(res2.exitCode, res2.all).toBe(0);
    const s2 = readJson<RunReport>(join(out2, 'run-report.json')).tasks.find((t) => t.id === 'patch')!.output as SearchResult;
    expect(s2.model.error).toContain('not the JSON asked for');
    expect(s2.winner).toMatchObject({ source: 'search', file: 'src/stats.js' });
  }, 240_000);
});
