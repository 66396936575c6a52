// The end-of-run summary printed to stderr by `replay` and `demo`.
import type { ReplayResult } from "../pipeline.js";

export function formatSummary(result: ReplayResult): string {
  const lines: string[] = [];
  for (const file of result.files) {
    const status = file.error ? `  error: ${file.error.message}` : "";
    lines.push(`${file.file}: ${file.capture.packets} packets, ${file.capture.bytes} bytes (${file.capture.format})${status}`);
  }
  const byType = Object.entries(result.recordsByType).map(([type, n]) => `${type} ${n}`).join(", ");
  lines.push(`records: ${result.records}${byType ? ` (${byType})` : ""}`);
  lines.push(`alerts: ${result.alerts}${result.alertsWithUnknownModel > 0 ? ` (${result.alertsWithUnknownModel} dropped: unknown model index)` : ""}`);
  const anomalies: [string, number][] = Object.entries(result.core.anomalies);
  const anomalyTotal = anomalies.reduce((n, [, count]) => n + count, 0);
  lines.push(`anomalies: ${anomalyTotal}${anomalies.length > 0 ? ` (${anomalies.map(([name, n]) => `${name} ${n}`).join(", ")})` : ""}`);
  return lines.join("\n") + "\n";
}
