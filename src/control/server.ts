/**
 * One kernel's control socket: a Unix socket `<runtime dir>/<kernel pid>-<run id>.sock`, mode 0600,
 * answering `ps` from the ACB table. Removed when the run ends (and on process exit as a last resort); a
 * kernel killed with SIGKILL leaves it behind, and the next kernel to start (or `agentos ps`) removes it.
 * Only reads the table: it never holds a reference the kernel waits on.
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Acb } from '../kernel-api/acb.js';
import { controlRequestSchema, MAX_REQUEST_BYTES, type ControlReply, type KernelInfo } from './protocol.js';
import { sweepStale } from './client.js';
import { ensureRuntimeDir } from './runtime-dir.js';

export interface ControlSource {
  info: () => KernelInfo;
  processes: () => readonly Acb[];
}

export class ControlServer {
  readonly path: string;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private closed = false;
  private readonly onExit = (): void => this.unlink();

  private constructor(path: string, server: Server) {
    this.path = path;
    this.server = server;
  }

  static async start(src: ControlSource, runId: string, dir?: string): Promise<ControlServer> {
    const d = ensureRuntimeDir(dir);
    const path = join(d, `${process.pid}-${runId}.sock`);
    try {
      unlinkSync(path); // a stale socket of a dead kernel that had our pid
    } catch {
      // none
    }
    // Sockets other dead kernels left (SIGKILL skips their cleanup): nobody listens on them any more.
    await sweepStale(d, path);
    const server = createServer();
    const ctl = new ControlServer(path, server);
    server.on('connection', (sock) => ctl.serve(sock, src));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(path, 0o600);
    server.unref();
    process.on('exit', ctl.onExit);
    return ctl;
  }

  private serve(sock: Socket, src: ControlSource): void {
    this.sockets.add(sock);
    sock.setTimeout(2000, () => sock.destroy());
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > MAX_REQUEST_BYTES) this.reply(sock, { ok: false, error: 'request too long' });
        return;
      }
      let reply: ControlReply;
      try {
        const req = controlRequestSchema.parse(JSON.parse(buf.slice(0, nl)));
        reply = req.op === 'ps' ? { ok: true, kernel: src.info(), processes: src.processes().map((a) => ({ ...a })) } : { ok: false, error: 'unknown op' };
      } catch (err) {
        reply = { ok: false, error: `bad request: ${(err as Error).message.slice(0, 200)}` };
      }
      this.reply(sock, reply);
    });
  }

  private reply(sock: Socket, reply: ControlReply): void {
    sock.end(`${JSON.stringify(reply)}\n`);
  }

  private unlink(): void {
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }

  /** Stop listening and remove the socket file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    process.off('exit', this.onExit);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.unlink();
  }
}
