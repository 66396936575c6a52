// A Prometheus text-format endpoint (exposition format 0.0.4) for the agent's
// counters, on 127.0.0.1 unless configured otherwise. It is off unless a port
// is given; DEFAULT_METRICS_PORT is the documented choice.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../log.js";
import { silentLogger } from "../log.js";

export const DEFAULT_METRICS_PORT = 9464;
export const DEFAULT_METRICS_HOST = "127.0.0.1";

export interface Metric {
  name: string;
  help: string;
  type: "counter" | "gauge";
  value: number;
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

// Formats metrics as Prometheus text; labels site and gateway go on every sample.
export function formatPrometheus(metrics: Metric[], labels: Record<string, string>): string {
  const labelText = Object.entries(labels)
    .map(([key, value]) => `${key}="${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");
  const lines: string[] = [];
  for (const metric of metrics) {
    lines.push(`# HELP ${metric.name} ${metric.help}`);
    lines.push(`# TYPE ${metric.name} ${metric.type}`);
    lines.push(`${metric.name}{${labelText}} ${Number.isFinite(metric.value) ? metric.value : 0}`);
  }
  return `${lines.join("\n")}\n`;
}

// Serves GET /metrics. Port 0 picks a free port (tests).
export async function startMetricsServer(
  port: number, collect: () => string, options: { host?: string; logger?: Logger } = {},
): Promise<MetricsServer> {
  const host = options.host ?? DEFAULT_METRICS_HOST;
  const logger = options.logger ?? silentLogger;
  const server: Server = createServer((request, response) => {
    if (request.method !== "GET" || (request.url ?? "/").split("?")[0] !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found: the metrics are at GET /metrics\n");
      return;
    }
    response.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(collect());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(new Error(`metrics endpoint cannot listen on ${host}:${port}: ${error.code ?? error.message}; pick another metricsPort`));
    });
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  logger.info({ host, port: bound }, "Prometheus metrics endpoint listening");
  return {
    port: bound,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
