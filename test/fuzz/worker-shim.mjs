// Worker entry for the fuzz watchdog: registers tsx's loader in this thread
// (the parent's loader does not carry over to workers) and imports the
// TypeScript worker module named in workerData.
import { register } from "tsx/esm/api";
import { workerData } from "node:worker_threads";

register();
await import(workerData.module);
