// `fieldsense config check FILE`: validates an agent configuration file and
// prints the configuration the agent would run with.
import { checkBrokerFiles, ConfigError, loadAgentConfig, type AgentConfig } from "../config/agent-config.js";
import { parseCommand, UsageError, type Output } from "./args.js";
import { CONFIG_HELP } from "./help.js";

export async function configCommand(argv: string[], output: Output): Promise<number> {
  const { values, positionals } = parseCommand("config", argv, { json: { type: "boolean" } });
  if (values.help) {
    output.stdout(CONFIG_HELP);
    return 0;
  }
  const [action, file, ...extra] = positionals;
  if (action !== "check") {
    throw new UsageError(action === undefined
      ? 'missing action for "fieldsense config"; use "fieldsense config check FILE"'
      : `unknown action "${action}" for "fieldsense config"; the only action is check`);
  }
  if (file === undefined) throw new UsageError('missing FILE for "fieldsense config check"; give the path of the agent configuration');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" for "fieldsense config check"`);
  let config: AgentConfig;
  try {
    config = loadAgentConfig(file);
    const missing = checkBrokerFiles(file, config);
    if (missing) throw missing;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (values.json) output.stdout(JSON.stringify({ valid: false, file, line: error.line ?? null, key: error.key ?? null, error: error.message }) + "\n");
    output.stderr(`fieldsense: ${error.message}\n`);
    return 1;
  }
  if (values.json) {
    // The configuration contains no secret: passwords stay in their variable or file.
    output.stdout(JSON.stringify({ valid: true, file, config }, null, 2) + "\n");
  } else {
    output.stdout(`${file}: valid\n`);
    if (!config.capture.interface) output.stdout("note: capture.interface is not set; give --interface when starting the agent\n");
    if (config.user === undefined) output.stdout("note: user is not set; the agent keeps running as the user that starts it\n");
  }
  return 0;
}
