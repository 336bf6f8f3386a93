/**
 * `--metrics [PORT]`: a bare HTTP server on 127.0.0.1 serving the current run's Prometheus text at
 * /metrics (the dashboard server serves the same at its own /metrics).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunMetricsExporter } from './prometheus.js';

export class MetricsServer {
  private exporter: RunMetricsExporter | undefined;
  port = 0;

  private constructor(private readonly http: Server) {}

  static async start(port: number, host = '127.0.0.1'): Promise<MetricsServer> {
    const box: { self?: MetricsServer } = {};
    const http = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (req.method !== 'GET' || path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
        return;
      }
      const ex = box.self?.exporter;
      if (!ex) {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end('# no run yet\n');
        return;
      }
      ex.text().then(
        (text) => res.writeHead(200, { 'content-type': ex.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
      );
    });
    const self = new MetricsServer(http);
    box.self = self;
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    self.port = (http.address() as AddressInfo).port;
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/metrics`;
  }

  setExporter(ex: RunMetricsExporter): void {
    this.exporter = ex;
  }

  async close(): Promise<void> {
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
