#!/usr/bin/env node
/** The `agentos` command. Exit codes: 0 ok, 1 a task failed, 2 bad input, 70 internal error, 130 SIGINT. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentOSError, isInputError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import { EXIT } from '../runs/exit-codes.js';
import type { Io } from '../runs/io.js';

// Each command's modules are imported when that command runs: importing every command at start-up
// (kernel, dashboard, cluster client, repair, stress) cost ~0.2 s of CPU before any command began -
// seconds on a loaded machine, in front of `agentos resume`'s first dispatch (docs/benchmarks.md).

/** The whole usage text (its parts live with their commands). */
async function usage(): Promise<string> {
  const [{ RUN_USAGE }, { RESUME_USAGE }, { GOAL_USAGE, REPAIR_USAGE }, { DASHBOARD_USAGE }, { PS_USAGE }, { DOCTOR_USAGE }, { CLUSTER_STATUS_USAGE }, { NODE_USAGE }, { CLUSTER_RUN_USAGE }, { CLUSTER_PS_USAGE }] = await Promise.all([
    import('./run-options.js'),
    import('./resume-command.js'),
    import('./goal-options.js'),
    import('./dashboard-command.js'),
    import('./ps-command.js'),
    import('./doctor-command.js'),
    import('../cluster/status-command.js'),
    import('./node-command.js'),
    import('./cluster-run-command.js'),
    import('./cluster-ps.js'),
  ]);
  return `agentos — run multi-agent work as real processes

usage:
  agentos run <plan.yaml> [options]   run a plan (agentos run --help for options)
  agentos run --goal "TEXT"           plan a goal (repair, scan, report) and run it
  agentos resume <run-dir | run-id>   continue a stopped or killed run from its journal
  agentos repair <repo> [options]     find and fix a bug that makes the repo's tests fail
  agentos stress --agents N --tasks M  N agent processes, M tasks, faults injected (agentos stress --help)
  agentos demo                        the repair demo on a copy of examples/buggy_math
  agentos demo repo [PATH]            a read-only scan of PATH (default: this package)
  agentos demo crash                  the fault-injection crash demo
  agentos demo messages [--json]      the message bus: direct, pub/sub, broadcast, backpressure, restart
  agentos demo kv-cache [--agents N] [--json]   the copy-on-write KV-cache page store
  agentos dashboard [--run DIR]       the web dashboard: start runs from the page, or show a finished run
  agentos ps | agentos top            agent processes of every running kernel on this machine
  agentos doctor [--json]             what this machine gives AgentOS (cgroups, permission model, tools)
  agentos cluster status --cluster URL   the nodes and runs of a cluster on Redis (docs/cluster.md)
  agentos node --cluster URL          a cluster node hosting agent processes for the cluster's runs
  agentos run <plan> --cluster URL    coordinate a run on the cluster's nodes (resume --cluster takes one over)
  agentos ps --cluster URL            every cluster node's agent processes
  agentos --version

${RUN_USAGE}

${RESUME_USAGE}

${REPAIR_USAGE}

${GOAL_USAGE}

${DASHBOARD_USAGE}

${PS_USAGE}

${DOCTOR_USAGE}

${CLUSTER_STATUS_USAGE}

${NODE_USAGE}

${CLUSTER_RUN_USAGE}

${CLUSTER_PS_USAGE}`;
}

/** `--cluster` given (as cluster-run-command's wantsCluster, without loading the cluster client). */
const clusterFlag = (argv: readonly string[]): boolean => argv.some((a) => a === '--cluster' || a.startsWith('--cluster='));

const io: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': {
      const { parseRunOptions, RUN_USAGE } = await import('./run-options.js');
      const { GOAL_USAGE, parseGoalOptions } = await import('./goal-options.js');
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(`${RUN_USAGE}\n\n${GOAL_USAGE}`);
        return EXIT.ok;
      }
      if (rest.some((a) => a === '--goal' || a.startsWith('--goal='))) return (await (await import('./goal-command.js')).runGoal(parseGoalOptions(rest), io)).code;
      if (clusterFlag(rest)) return (await (await import('./cluster-run-command.js')).clusterRunCommand(rest, 'run', io)).code;
      return (await (await import('./run-command.js')).runCommand(parseRunOptions(rest), io)).code;
    }
    case 'resume': {
      const { parseResumeOptions, RESUME_USAGE, resumeCommand } = await import('./resume-command.js');
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(RESUME_USAGE);
        return EXIT.ok;
      }
      if (clusterFlag(rest)) return (await (await import('./cluster-run-command.js')).clusterRunCommand(rest, 'resume', io)).code;
      return (await resumeCommand(parseResumeOptions(rest), io)).code;
    }
    case 'node': {
      const { NODE_USAGE, nodeCommand } = await import('./node-command.js');
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(NODE_USAGE);
        return EXIT.ok;
      }
      return nodeCommand(rest, io);
    }
    case 'stress': {
      const { parseStressOptions, STRESS_USAGE } = await import('../stress/options.js');
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(STRESS_USAGE);
        return EXIT.ok;
      }
      return (await import('./stress-command.js')).stressCommand(parseStressOptions(rest), io);
    }
    case 'repair': {
      const { parseRepairOptions, REPAIR_USAGE } = await import('./goal-options.js');
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(REPAIR_USAGE);
        return EXIT.ok;
      }
      return (await (await import('./goal-command.js')).runGoal(parseRepairOptions(rest), io)).code;
    }
    case 'demo': {
      const [which, ...args] = rest;
      if (which === 'crash') return (await import('./demo.js')).crashDemo(args, io);
      if (which === 'repo') return (await import('./demo.js')).repoDemo(args, io);
      if (which === 'messages') return (await import('./demo-messages.js')).messagesDemo(args, io);
      if (which === 'kv-cache') return (await import('./demo-kv.js')).kvDemo(args, io);
      if (which === undefined || which.startsWith('-')) return (await import('./demo.js')).repairDemo(rest, io);
      throw new AgentOSError('E_USAGE', `unknown demo '${which}': use agentos demo, agentos demo repo [PATH], agentos demo crash, messages or kv-cache`);
    }
    case 'dashboard': {
      const { DASHBOARD_USAGE, dashboardCommand } = await import('./dashboard-command.js');
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(DASHBOARD_USAGE);
        return EXIT.ok;
      }
      return dashboardCommand(rest, io);
    }
    case 'ps':
    case 'top': {
      const { PS_USAGE, psCommand, topCommand } = await import('./ps-command.js');
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(PS_USAGE);
        return EXIT.ok;
      }
      if (command === 'ps' && clusterFlag(rest)) return (await import('./cluster-ps.js')).clusterPsCommand(rest, io);
      return command === 'ps' ? psCommand(rest, io) : topCommand(rest, io);
    }
    case 'doctor': {
      const { DOCTOR_USAGE, doctorCommand } = await import('./doctor-command.js');
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(DOCTOR_USAGE);
        return EXIT.ok;
      }
      return doctorCommand(rest, io);
    }
    case 'cluster': {
      const { CLUSTER_STATUS_USAGE, clusterStatusCommand } = await import('../cluster/status-command.js');
      const [sub, ...more] = rest;
      if (sub === undefined || sub === '--help' || sub === '-h' || more.includes('--help') || more.includes('-h')) {
        io.out(CLUSTER_STATUS_USAGE);
        return sub === undefined ? EXIT.input : EXIT.ok;
      }
      if (sub !== 'status') throw new AgentOSError('E_USAGE', `unknown cluster command '${sub}': use agentos cluster status --cluster URL`);
      return clusterStatusCommand(more, io);
    }
    case '--version':
    case '-v':
      io.out((JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version);
      return EXIT.ok;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      io.out(await usage());
      return EXIT.ok;
    default:
      throw new AgentOSError('E_USAGE', `unknown command '${command}'.\n${await usage()}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (isInputError(err) || (err instanceof AgentOSError && err.code === 'E_USAGE')) {
      io.err(`agentos: ${err.message}`);
      process.exitCode = EXIT.input;
      return;
    }
    io.err(`agentos: internal error: ${(err as Error)?.stack ?? String(err)}`);
    process.exitCode = EXIT.internal;
  },
);
