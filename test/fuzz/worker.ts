// Worker side of fuzzInWorker (engine.ts): runs the fuzz loop and reports
// each input index before running it, so the parent can tell which input hung.
import { parentPort, workerData } from "node:worker_threads";
import { runFuzz, type FuzzConfig } from "./engine.js";

const config = workerData.config as FuzzConfig;
const report = await runFuzz(config, (index) => parentPort!.postMessage({ type: "input", index }));
parentPort!.postMessage({ type: "done", report });
