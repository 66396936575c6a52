// A one-line progress bar for long replays, drawn on stderr when it is a
// terminal: bar, percent, rate in MB/s and time left.

// Redraws at most this often, so that drawing costs nothing next to decoding.
const REDRAW_INTERVAL_MS = 200;
const BAR_WIDTH = 30;

export class ProgressBar {
  private readonly startMs: number;
  private lastDrawMs = 0;
  private drawn = false;

  constructor(private readonly totalBytes: number, private readonly write: (text: string) => void, private readonly now = () => Date.now()) {
    this.startMs = now();
  }

  update(doneBytes: number): void {
    const now = this.now();
    if (now - this.lastDrawMs < REDRAW_INTERVAL_MS) return;
    this.lastDrawMs = now;
    this.write(`\r${this.render(doneBytes, now)}\x1b[K`);
    this.drawn = true;
  }

  // The line for `doneBytes` of `totalBytes` at time `now`.
  render(doneBytes: number, now: number): string {
    const fraction = this.totalBytes > 0 ? Math.min(1, doneBytes / this.totalBytes) : 1;
    const filled = Math.round(fraction * BAR_WIDTH);
    const seconds = Math.max(0.001, (now - this.startMs) / 1000);
    const rate = doneBytes / seconds;
    const left = rate > 0 ? (this.totalBytes - doneBytes) / rate : Number.POSITIVE_INFINITY;
    const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
    return `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${percent} ${(rate / 1e6).toFixed(1)} MB/s ${formatLeft(left)} left`;
  }

  // Removes the bar, so that the summary starts on a clean line.
  finish(): void {
    if (this.drawn) this.write("\r\x1b[K");
  }
}

function formatLeft(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--:--";
  const whole = Math.ceil(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}
