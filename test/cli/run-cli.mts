// Runs the CLI from its TypeScript sources, for tests that need a separate
// process (signals, exit codes): node --import tsx test/cli/run-cli.mts ARGS...
import { main } from "../../agent/src/cli/main.ts";

process.exitCode = await main(process.argv.slice(2));
