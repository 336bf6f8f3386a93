/**
 * SLOW (npm pack + npm install, ~30-60 s): the package as a user gets it. The tarball is installed into a
 * fresh project and a handler typed with `import type { ... } from 'agentos'` must typecheck with tsc;
 * a wrong use of the same types must not. Then the same project runs a plan of its own TypeScript agent
 * with `runPlan` from code and with `npx agentos run`, and no process is left behind.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, expectAllGone, ROOT, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

const GOOD = `import type { AgentContext, Handler, TaskInfo, BusMessage, WaitResult, KvStatsReply, RunReport } from 'agentos';

interface Input { n: number }
interface Output { doubled: number; task: TaskInfo; got: string | null }

const handle: Handler<Input, Output> = async (input, ctx: AgentContext) => {
  ctx.log('start', { n: input.n });
  ctx.log.warn('careful');
  await ctx.send('peer', { hello: 1 });
  const m: BusMessage<{ hello: number }> | null = await ctx.receive<{ hello: number }>({ timeout_ms: 10 });
  const many = await ctx.receiveMany({ max: 4 });
  await ctx.publish('t', 1);
  await ctx.subscribe('t');
  await ctx.unsubscribe('t');
  await ctx.broadcast({ x: 1 });
  const w: WaitResult = await ctx.wait({ tasks: ['a'], until: 'first', field: 'ok' });
  await ctx.spawn({ id: 'x', agent: 'y', deps: [], input: 1 });
  await ctx.cancel(['x'], 'done');
  const entry = await ctx.memory.get<number>('k');
  await ctx.memory.set('k', 1);
  await ctx.memory.local.set('k', 2);
  const local = await ctx.memory.local.get<number>('k');
  const packed = await ctx.memory.context({ budget: 100 });
  const tokens: number = await ctx.tokens.count('hello');
  const seq = await ctx.kv.create([1, 2]);
  const stats: KvStatsReply = await ctx.kv.stats();
  const reply = await ctx.llm.chat({ messages: [{ role: 'user', content: 'hi' }] });
  void [many, w, entry, local, packed, tokens, seq, stats, reply.content, ctx.deps, ctx.agent.instance];
  return { doubled: input.n * 2, task: ctx.task, got: m ? m.from.address : null };
};
export default handle;

export function summary(r: RunReport): string {
  return r.status;
}
`;

const BAD = `import type { Handler } from 'agentos';
const handle: Handler<{ n: number }, { doubled: number }> = async (input, ctx) => {
  await ctx.sendd('peer', 1);
  const id: number = ctx.task.id;
  return { doubled: String(input.n) };
};
export default handle;
`;

describe('package (slow)', () => {
  it('npm pack, install the tarball into a fresh project, typecheck a handler against agentos types', async () => {
    const work = tempDir('agentos-pack-');
    const packed = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT });
    const tarball = join(work, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename);
    const app = join(work, 'app');
    await execa('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), '{"name":"app","private":true,"type":"module"}\n');
    await execa('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: app, timeout: 120_000 });
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] },
        files: ['handler.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules/.bin/tsc');
    writeFileSync(join(app, 'handler.ts'), GOOD);
    const good = await execa(tsc, ['-p', app], { cwd: app, reject: false });
    expect(good.exitCode, good.stdout + good.stderr).toBe(0);

    writeFileSync(join(app, 'handler.ts'), BAD);
    const bad = await execa(tsc, ['-p', app], { cwd: app, reject: false });
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stdout).toMatch(/handler\.ts\(3,\d+\): error TS2551: Property 'sendd' does not exist/);
    expect(bad.stdout).toMatch(/handler\.ts\(4,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
    // The wrong output type is reported where the handler is declared.
    expect(bad.stdout).toMatch(/handler\.ts\(2,\d+\): error TS2322[^]*Types of property 'doubled' are incompatible/);

    // Run a plan of the project's own TypeScript agent: from code (runPlan) and with npx agentos.
    mkdirSync(join(app, 'agents/doubler'), { recursive: true });
    writeFileSync(join(app, 'agents/doubler/agent.yaml'), 'name: doubler\nhandler: ./handler.ts\n');
    writeFileSync(
      join(app, 'agents/doubler/handler.ts'),
      "import type { Handler } from 'agentos';\nconst handle: Handler<{ n: number }, { doubled: number }> = async (input) => ({ doubled: input.n * 2 });\nexport default handle;\n",
    );
    writeFileSync(join(app, 'plan.yaml'), 'name: packaged\ntasks:\n  - { id: a, agent: doubler, input: { n: 21 } }\n');
    writeFileSync(
      join(app, 'run.mjs'),
      "import { runPlan } from 'agentos';\nconst r = await runPlan('plan.yaml', { agents: ['agents'], runsDir: 'runs' });\nconsole.log(JSON.stringify({ status: r.status, output: r.tasks[0].output, pids: r.agents.flatMap((a) => a.pids) }));\n",
    );
    const embedded = await execa('node', ['run.mjs'], { cwd: app, reject: false, timeout: 120_000 });
    expect(embedded.exitCode, embedded.stdout + embedded.stderr).toBe(0);
    const result = JSON.parse(embedded.stdout.trim().split('\n').pop()!) as { status: string; output: unknown; pids: number[] };
    expect(result).toMatchObject({ status: 'succeeded', output: { doubled: 42 } });
    await expectAllGone(result.pids);

    const cli = await execa('npx', ['--no-install', 'agentos', 'run', 'plan.yaml', '--agents', 'agents', '--runs-dir', 'runs', '--json', '--quiet'], { cwd: app, reject: false, timeout: 120_000 });
    expect(cli.exitCode, cli.stderr).toBe(0);
    const report = JSON.parse(cli.stdout) as { status: string; tasks: Array<{ output: unknown }>; agents: Array<{ pids: number[] }> };
    expect(report.status).toBe('succeeded');
    expect(report.tasks[0]!.output).toEqual({ doubled: 42 });
    await expectAllGone(report.agents.flatMap((a) => a.pids));
  }, 300_000);
});
