#!/usr/bin/env node
/** The `agentos` command. Exit codes: 0 ok, 1 a task failed, 2 bad input, 70 internal error, 130 SIGINT. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentOSError, isInputError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import { crashDemo, repairDemo, repoDemo } from './demo.js';
import { GOAL_USAGE, parseGoalOptions, parseRepairOptions, REPAIR_USAGE } from './goal-options.js';
import { runGoal } from './goal-command.js';
import { kvDemo } from './demo-kv.js';
import { messagesDemo } from './demo-messages.js';
import { DASHBOARD_USAGE, dashboardCommand } from './dashboard-command.js';
import { DOCTOR_USAGE, doctorCommand } from './doctor-command.js';
import { CLUSTER_STATUS_USAGE, clusterStatusCommand } from '../cluster/status-command.js';
import { PS_USAGE, psCommand, topCommand } from './ps-command.js';
import { CLUSTER_RUN_USAGE, clusterRunCommand, wantsCluster } from './cluster-run-command.js';
import { CLUSTER_PS_USAGE, clusterPsCommand } from './cluster-ps.js';
import { NODE_USAGE, nodeCommand } from './node-command.js';
import { EXIT, runCommand, type Io } from './run-command.js';
import { parseRunOptions, RUN_USAGE } from './run-options.js';
import { parseStressOptions, STRESS_USAGE } from '../stress/options.js';
import { stressCommand } from './stress-command.js';
import { parseResumeOptions, RESUME_USAGE, resumeCommand } from './resume-command.js';

const USAGE = `agentos — run multi-agent work as real processes

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

const io: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(`${RUN_USAGE}\n\n${GOAL_USAGE}`);
        return EXIT.ok;
      }
      if (rest.some((a) => a === '--goal' || a.startsWith('--goal='))) return (await runGoal(parseGoalOptions(rest), io)).code;
      if (wantsCluster(rest)) return (await clusterRunCommand(rest, 'run', io)).code;
      return (await runCommand(parseRunOptions(rest), io)).code;
    case 'resume':
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(RESUME_USAGE);
        return EXIT.ok;
      }
      if (wantsCluster(rest)) return (await clusterRunCommand(rest, 'resume', io)).code;
      return (await resumeCommand(parseResumeOptions(rest), io)).code;
    case 'node':
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(NODE_USAGE);
        return EXIT.ok;
      }
      return nodeCommand(rest, io);
    case 'stress':
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(STRESS_USAGE);
        return EXIT.ok;
      }
      return stressCommand(parseStressOptions(rest), io);
    case 'repair':
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(REPAIR_USAGE);
        return EXIT.ok;
      }
      return (await runGoal(parseRepairOptions(rest), io)).code;
    case 'demo': {
      const [which, ...args] = rest;
      if (which === 'crash') return crashDemo(args, io);
      if (which === 'repo') return repoDemo(args, io);
      if (which === 'messages') return messagesDemo(args, io);
      if (which === 'kv-cache') return kvDemo(args, io);
      if (which === undefined || which.startsWith('-')) return repairDemo(rest, io);
      throw new AgentOSError('E_USAGE', `unknown demo '${which}': use agentos demo, agentos demo repo [PATH], agentos demo crash, messages or kv-cache`);
    }
    case 'dashboard':
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(DASHBOARD_USAGE);
        return EXIT.ok;
      }
      return dashboardCommand(rest, io);
    case 'ps':
    case 'top':
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(PS_USAGE);
        return EXIT.ok;
      }
      if (command === 'ps' && wantsCluster(rest)) return clusterPsCommand(rest, io);
      return command === 'ps' ? psCommand(rest, io) : topCommand(rest, io);
    case 'doctor':
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(DOCTOR_USAGE);
        return EXIT.ok;
      }
      return doctorCommand(rest, io);
    case 'cluster': {
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
      io.out(USAGE);
      return EXIT.ok;
    default:
      throw new AgentOSError('E_USAGE', `unknown command '${command}'.\n${USAGE}`);
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
