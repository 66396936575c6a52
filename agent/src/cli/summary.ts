// The end-of-run summary printed to stderr by `replay` and `demo`.
import { CAPLEN_ABOVE_WIRELEN } from "../capture/stats.js";
import type { FileResult, ReplayResult } from "../pipeline.js";

export function formatSummary(result: ReplayResult): string {
  const lines: string[] = [];
  for (const file of result.files) lines.push(...fileLines(file));
  const byType = Object.entries(result.recordsByType).map(([type, n]) => `${type} ${n}`).join(", ");
  lines.push(`records: ${result.records}${byType ? ` (${byType})` : ""}`);
  lines.push(`alerts: ${result.alerts}${result.alertsWithUnknownModel > 0 ? ` (${result.alertsWithUnknownModel} dropped: unknown model index)` : ""}`);
  const anomalies: [string, number][] = Object.entries(result.core.anomalies);
  const caplenAboveWirelen = result.files.reduce((n, file) => n + file.capture.caplenAboveWirelen, 0);
  if (caplenAboveWirelen > 0) anomalies.push([CAPLEN_ABOVE_WIRELEN, caplenAboveWirelen]);
  const anomalyTotal = anomalies.reduce((n, [, count]) => n + count, 0);
  lines.push(`anomalies: ${anomalyTotal}${anomalies.length > 0 ? ` (${anomalies.map(([name, n]) => `${name} ${n}`).join(", ")})` : ""}`);
  return lines.join("\n") + "\n";
}

// One line per file, then one line for its error or its cut last record. The
// format is named only once the magic bytes identified it.
function fileLines(file: FileResult): string[] {
  const format = file.capture.format === "unknown" ? "" : ` (${file.capture.format})`;
  const lines = [`${file.file}: ${file.capture.packets} packets, ${file.capture.bytes} bytes${format}`];
  if (file.error) lines.push(`  error: ${file.error.message}`);
  if (file.capture.truncatedRecords > 0) {
    const unit = file.capture.format === "pcapng" ? "block" : "record";
    const at = file.capture.truncatedAt !== undefined ? `, at byte ${file.capture.truncatedAt},` : "";
    lines.push(`  warning: the last ${unit} of ${file.file}${at} is cut short by the end of the file and was not read; ` +
      "the capture was probably stopped or copied while being written");
  }
  if (file.capture.caplenAboveWirelen > 0) {
    const count = file.capture.caplenAboveWirelen;
    lines.push(`  warning: ${count} ${count === 1 ? "record has" : "records have"} a captured length above the original length, ` +
      `the first at byte ${file.capture.caplenAboveWirelenAt}; the file was edited or written by a faulty tool (${CAPLEN_ABOVE_WIRELEN})`);
  }
  return lines;
}

// True when a file could not be read to its end for a reason other than a
// cut last record (which is only a warning).
export function hasFileErrors(result: ReplayResult): boolean {
  return result.files.some((file) => file.error !== undefined);
}
