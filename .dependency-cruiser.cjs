/**
 * The layering of AgentOS as rules the build checks (`npm run lint`). Arrows point down
 * (docs/architecture.md):
 *
 *   cli/ dashboard/ control/ index.ts   parse, print, serve pages; the package's public entry
 *   planning/                       goal -> plan for the dashboard
 *   runs/ stress/                   prepare and host runs, signals, exit codes
 *   kernel/                         composition root
 *   scheduler/  process/            the DAG (no process in sight) | the local AttemptRunner
 *   bus/ context/ kvcache/ llm/ monitor/   services
 *   observe/                        subscribes, never drives
 *   kernel-api/ protocol/ config/ lib/ errors.ts paths.ts repair/ platform/ journal/ transpile/   the leaves
 *   cluster/                        the Redis side (beside the kernel, below runs/)
 *
 * Type-only imports are allowed across layers where a rule says so (report shapes in observe/).
 */
const LAYERS = {
  planning: '^src/planning/',
  runs: '^src/(runs|stress)/',
  kernel: '^src/kernel/',
  scheduler: '^src/scheduler/',
  process: '^src/process/',
  services: '^src/(bus|context|kvcache|llm|monitor)/',
  observe: '^src/observe/',
};

/** Runtime (not type-only) dependencies. */
const RUNTIME = { dependencyTypesNot: ['type-only'] };

const upward = (name, from, to, comment, runtimeOnly = true) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: { path: to, ...(runtimeOnly ? RUNTIME : {}) },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles, not even through type-only imports.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    upward('not-to-cli', '^src/(?!cli/)', '^src/cli/', 'Only the CLI imports the CLI.', false),
    upward('below-runs-not-to-runs', '^src/(?!cli/|dashboard/|control/|planning/|runs/|stress/|index\\.ts$)', LAYERS.runs, 'runs/ and stress/ sit above the kernel: nothing below them imports them.', false),
    upward('below-top-not-to-top', '^src/(?!cli/|dashboard/|control/)', '^src/(dashboard|control)/', 'The dashboard and the control socket sit at the top with the CLI.', false),
    upward('below-planning-not-to-planning', '^src/(?!cli/|dashboard/|control/|planning/)', LAYERS.planning, 'planning/ is used by the top layer only.', false),
    upward('below-kernel-not-to-kernel', '^src/(?!cli/|dashboard/|control/|planning/|runs/|stress/|kernel/)', LAYERS.kernel, 'The kernel is the composition root: only runs/ and above import it.', false),
    upward('scheduler-not-to-process', LAYERS.scheduler, '^src/(process|kernel|bus|context|kvcache|llm|monitor|observe)/', 'The scheduler never sees a process: it talks to an AttemptRunner (kernel-api/).', false),
    upward('process-not-to-scheduler', LAYERS.process, '^src/(scheduler|kernel|bus|context|kvcache|llm|monitor|observe)/', 'The local runner implements kernel-api/attempt-runner.ts; it does not know the scheduler.', false),
    upward('services-only-kernel-api', LAYERS.services, '^src/(kernel|scheduler|process|observe)/', 'Services import kernel-api/ and protocol/, never the kernel, the scheduler, a process or observe/.'),
    upward('observe-subscribes-only', LAYERS.observe, '^src/(kernel|scheduler|process|bus|context|kvcache|llm|monitor)/', 'observe/ subscribes to events; it may use the report shapes of other parts as types only.'),
    upward('leaves-stay-leaves', '^src/(kernel-api|protocol|lib)/|^src/(errors|paths)\\.ts$', '^src/(?!kernel-api/|protocol/|lib/|config/|errors\\.ts$|paths\\.ts$)', 'kernel-api/, protocol/, lib/, errors.ts and paths.ts import only each other and config/.', false),
    upward('config-is-a-leaf', '^src/config/', '^src/(?!config/|errors\\.ts$|paths\\.ts$|lib/)', 'config/ (plans, agent specs, defaults) depends on nothing of the runtime.', false),
    upward('journal-is-a-library', '^src/journal/', '^src/(?!journal/|errors\\.ts$|lib/|kernel-api/|protocol/)', 'journal/ (the durable record) is written by the kernel and read by resume: it knows no runtime part.', false),
    upward('platform-is-a-leaf', '^src/platform/', '^src/(?!platform/|errors\\.ts$|lib/)', 'platform/ probes the machine (doctor, containment): a leaf.', false),
    upward('transpile-below-kernel', '^src/transpile/', '^src/(?!transpile/|errors\\.ts$|lib/|config/|paths\\.ts$)', 'transpile/ prepares handlers for the kernel: config and errors only.', false),
    upward('cluster-below-runs', '^src/cluster/', '^src/(cli|dashboard|control|planning|runs|stress)/', 'cluster/ (Redis runner, registry, journal backend) sits beside the kernel, below runs/.', false),
    upward('repair-is-a-library', '^src/repair/', '^src/(?!repair/)', 'repair/ is the library agents import from dist/: it stands alone.', false),
    upward('worker-imports-protocol-only', '^worker/', '^src/(?!protocol/|errors\\.ts$|kernel-api/syscall-ops\\.ts$)', 'The child side loads on every spawn: protocol, errors and the syscall names only.', false),
    upward('agents-use-the-repair-library', '^agents/', '^(src|dist/src/(?!repair/))', 'Agents may import the built repair library (dist/src/repair), nothing else of AgentOS.', false),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|coverage|test-artifacts)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
