// Command-line parsing shared by the sub-commands (node:util parseArgs), with
// usage errors that name the option and the fix.
import { parseArgs, type ParseArgsConfig } from "node:util";

export const USAGE_ERROR_CODE = "FIELDSENSE_USAGE";

export class UsageError extends Error {
  readonly code = USAGE_ERROR_CODE;
}

export interface Output {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  // Whether stdout and stderr are terminals; absent means neither is.
  stdoutIsTTY?: boolean;
  stderrIsTTY?: boolean;
}

export const processOutput: Output = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  get stdoutIsTTY() { return process.stdout.isTTY === true; },
  get stderrIsTTY() { return process.stderr.isTTY === true; },
};

// Colour only on a terminal, and never when NO_COLOR is set to anything
// non-empty (https://no-color.org).
export function useColour(isTTY: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  return isTTY === true && !(env.NO_COLOR !== undefined && env.NO_COLOR !== "");
}

type Options = NonNullable<ParseArgsConfig["options"]>;

// Parses argv for `command`. Unknown options and missing values raise a
// UsageError whose message names the option and the help command.
export function parseCommand<T extends Options>(command: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = (error as Error).message;
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const option = /'([^']+)'/.exec(message)?.[1] ?? message;
      throw new UsageError(`unknown option ${option} for "fieldsense ${command}"; see "fieldsense ${command} --help"`);
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      throw new UsageError(`${message.replace(/\.$/, "")}; see "fieldsense ${command} --help"`);
    }
    throw new UsageError(`${message}; see "fieldsense ${command} --help"`);
  }
}

// Parses a positive integer option value.
export function positiveInteger(option: string, value: string): number {
  const number = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(number) || number < 1) {
    throw new UsageError(`invalid ${option} "${value}": expected a positive whole number`);
  }
  return number;
}

// Parses a non-negative decimal option value (a rate, a factor).
export function nonNegativeNumber(option: string, value: string): number {
  const number = Number(value);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value) || !Number.isFinite(number)) {
    throw new UsageError(`invalid ${option} "${value}": expected a number of 0 or more, such as 1 or 2.5`);
  }
  return number;
}
