/**
 * The app PM2 supervises in the crash benchmark (peers/pm2.ts): once loaded it says `ready <pid>` on the
 * benchmark's unix socket; on `crash` it aborts (SIGABRT), the fault AgentOS's crash benchmark commits.
 */
import { connect } from 'node:net';

const sock = connect(process.env.PM2_BENCH_SOCK!);
sock.on('connect', () => sock.write(`ready ${process.pid}\n`));
sock.on('data', (d: Buffer) => {
  if (d.toString().includes('crash')) process.abort();
});
sock.on('error', () => process.exit(1));
