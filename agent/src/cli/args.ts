// Command-line parsing shared by the sub-commands (node:util parseArgs), with
// usage errors that name the option and the fix.
import { statSync } from "node:fs";
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

// Exit code after stdout's reader went away (EPIPE): 128 + SIGPIPE (13), the
// code a shell reports for a program that SIGPIPE ended.
export const BROKEN_PIPE_EXIT_CODE = 128 + 13;

const WRITE_ERROR_WORDS: Record<string, string> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EIO: "input/output error",
  EBADF: "standard output is closed",
  EACCES: "permission denied",
};

let stdoutGuarded = false;

// Ends the process on a failed write to stdout instead of Node's unhandled
// 'error' stack trace. EPIPE (`fieldsense replay ... | head -1`) stops
// quietly with BROKEN_PIPE_EXIT_CODE. Other errors, such as ENOSPC when stdout
// is /dev/full or a full disk, print one line on stderr and exit with 1.
export function guardStdout(stream: NodeJS.WriteStream = process.stdout, exit: (code: number) => void = (code) => process.exit(code)): void {
  if (stream === process.stdout) {
    if (stdoutGuarded) return;
    stdoutGuarded = true;
  }
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") {
      exit(BROKEN_PIPE_EXIT_CODE);
      return;
    }
    const words = error.code !== undefined && WRITE_ERROR_WORDS[error.code] ? ` (${WRITE_ERROR_WORDS[error.code]})` : "";
    process.stderr.write(`fieldsense: cannot write to standard output: ${error.code ?? error.message}${words}; free space or redirect the output elsewhere\n`);
    exit(1);
  });
}

// Colour only on a terminal, and never when NO_COLOR is set to anything
// non-empty (https://no-color.org).
export function useColour(isTTY: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  return isTTY === true && !(env.NO_COLOR !== undefined && env.NO_COLOR !== "");
}

// Wraps text in an SGR escape (bold "1", red "31", ...) when `on`.
export const paint = (on: boolean, code: string) => (text: string) => (on ? `\x1b[${code}m${text}\x1b[0m` : text);

// Shows control characters (C0, DEL, C1, line and paragraph separators) as
// \uXXXX, so that text from the wire, such as a device's identification
// strings, cannot move the cursor, clear the screen or fake table rows.
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

// Lays rows out in columns under a bold header; every cell goes through
// `printable` first.
export function table(header: string[], rows: string[][], colour: boolean): string {
  const safe = rows.map((row) => row.map(printable));
  const widths = header.map((title, i) => Math.max(title.length, ...safe.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd();
  return [paint(colour, "1")(line(header)), ...safe.map(line)].join("\n") + "\n";
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
    const missing = /^Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(message);
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && missing) {
      const option = missing[1];
      throw new UsageError(`${option} needs a value: write "${option} VALUE" or "${option}=VALUE"; see "fieldsense ${command} --help"`);
    }
    const ambiguous = /^Option '(?:-\w, )?(--[\w-]+)' argument is ambiguous/.exec(message);
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && ambiguous) {
      throw new UsageError(dashValueMessage(command, ambiguous[1], argv));
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      throw new UsageError(`${message.replace(/\.$/, "")}; see "fieldsense ${command} --help"`);
    }
    throw new UsageError(`${message}; see "fieldsense ${command} --help"`);
  }
}

// parseArgs reads "--speed -1" as an option followed by another option. A
// negative number gets a range error. Any other value that starts with a dash
// gets the "--option=VALUE" form, which passes it.
function dashValueMessage(command: string, option: string, argv: string[]): string {
  // A short alias (-o) is not found here and gets the generic message.
  const index = argv.indexOf(option);
  const value = index >= 0 ? argv[index + 1] : undefined;
  if (value !== undefined && /^-[0-9.]/.test(value)) {
    return `invalid ${option} "${value}": must be 0 or more; see "fieldsense ${command} --help"`;
  }
  return `${option} needs a value, but "${value ?? ""}" starts with a dash and reads as an option; write "${option}=${value ?? "VALUE"}" if it is the value`;
}

// Returns an option value that names a folder, rejecting a path that exists
// but is a file. `contents` names what the folder must contain, for the fix.
export function folderOption(option: string, value: string, contents: string): string {
  const stats = statSync(value, { throwIfNoEntry: false });
  if (stats !== undefined && !stats.isDirectory()) {
    throw new UsageError(`invalid ${option} "${value}": it is a file, not a folder; give the folder that contains ${contents}`);
  }
  return value;
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

// The files of "--capture FILE...": every --capture value and the arguments
// that follow, so that "--capture a.pcap b.pcap" and a shell glob such as
// "--capture captures/*.pcap" read every file, as repeated --capture does.
// Undefined without --capture, where the command decides about arguments.
export function captureFiles(capture: unknown, positionals: string[]): string[] | undefined {
  if (capture === undefined) return undefined;
  return [...(capture as string[]), ...positionals];
}
