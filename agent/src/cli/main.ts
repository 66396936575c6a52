// Entry point of the `fieldsense` command (bin/fieldsense.js loads the
// compiled copy of this file). Commands are imported when they run, so that
// help and usage errors work without loading the WebAssembly core.
import { guardStdout, processOutput, USAGE_ERROR_CODE, UsageError, type Output } from "./args.js";
import {
  AGENT_HELP, ALERTS_HELP, ASSETS_HELP, CONFIG_HELP, CORRELATOR_HELP, DEMO_HELP, EXTRACT_HELP, HELP_HELP, MAIN_HELP, MODBUS_HELP,
  REPLAY_HELP, REPORT_HELP, STATUS_HELP, MODELS_HELP, PCAP_HELP, PROFILES_HELP, SEARCH_HELP,
} from "./help.js";

const HELP: Record<string, string> = {
  agent: AGENT_HELP, status: STATUS_HELP, alerts: ALERTS_HELP, assets: ASSETS_HELP, extract: EXTRACT_HELP,
  config: CONFIG_HELP, modbus: MODBUS_HELP, replay: REPLAY_HELP, correlator: CORRELATOR_HELP, report: REPORT_HELP, demo: DEMO_HELP,
  models: MODELS_HELP, pcap: PCAP_HELP, profiles: PROFILES_HELP, search: SEARCH_HELP,
};

// Runs one command and returns the exit code: 0 success, 1 failure, 2 usage error.
export async function main(argv: string[], output: Output = processOutput): Promise<number> {
  const [command, ...rest] = argv;
  if (output === processOutput) guardStdout();
  try {
    switch (command) {
      case "agent": return await (await import("./agent.js")).agentCommand(rest, output);
      case "status": return await (await import("./inspect.js")).statusCommand(rest, output);
      case "alerts": return await (await import("./inspect.js")).alertsCommand(rest, output);
      case "assets": return await (await import("./inspect.js")).assetsCommand(rest, output);
      case "extract": return await (await import("./inspect.js")).extractCommand(rest, output);
      case "pcap": return await (await import("./pcap.js")).pcapCommand(rest, output);
      case "config": return await (await import("./config-check.js")).configCommand(rest, output);
      case "modbus": return await (await import("./modbus-identify.js")).modbusCommand(rest, output);
      case "replay": return await (await import("./replay.js")).replayCommand(rest, output);
      case "correlator": return await (await import("./correlator.js")).correlatorCommand(rest, output);
      case "report": return await (await import("./correlator.js")).reportCommand(rest, output);
      case "search": return await (await import("./search.js")).searchCommand(rest, output);
      case "demo": return await (await import("./demo.js")).demoCommand(rest, output);
      case "models": return await (await import("./models.js")).modelsCommand(rest, output);
      case "profiles": return await (await import("./profiles.js")).profilesCommand(rest, output);
      case undefined:
        output.stderr(MAIN_HELP);
        return 2;
      case "-h":
      case "--help":
        output.stdout(MAIN_HELP);
        return 0;
      case "--version":
        output.stdout(`fieldsense ${await packageVersion()}\n`);
        return 0;
      case "help": {
        const topic = rest[0];
        if (topic === "help" || topic === "-h" || topic === "--help") {
          output.stdout(HELP_HELP);
          return 0;
        }
        if (topic?.startsWith("-")) throw new UsageError(`unknown option ${topic} for "fieldsense help"; see "fieldsense help --help"`);
        if (topic !== undefined && !HELP[topic]) throw new UsageError(`unknown command "${topic}"; commands are ${Object.keys(HELP).join(", ")}, help`);
        output.stdout(topic ? HELP[topic] : MAIN_HELP);
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"; commands are ${Object.keys(HELP).join(", ")} (see "fieldsense --help")`);
    }
  } catch (error) {
    output.stderr(`fieldsense: ${error instanceof Error ? error.message : String(error)}\n`);
    // Compared by code, not class: a command module loaded through import()
    // may see its own copy of args.js under a CommonJS test runner.
    return (error as { code?: unknown }).code === USAGE_ERROR_CODE ? 2 : 1;
  }
}

// The version in the package.json of the fieldsense package.
async function packageVersion(): Promise<string> {
  const { readFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { packageRoot } = await import("../config/paths.js");
  const manifest = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version?: string };
  return manifest.version ?? "unknown";
}
