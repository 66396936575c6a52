// Locates the public captures that real-capture tests read. They live outside
// the repository (../shared/captures beside the checkout) and can be moved
// with FIELDSENSE_CAPTURES; when absent, tests skip with a printed reason.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export const capturesDir = process.env.FIELDSENSE_CAPTURES
  ? resolve(process.env.FIELDSENSE_CAPTURES)
  : resolve(repoRoot, "../shared/captures");

// Returns the absolute path of a capture, or undefined after printing why the
// calling test is skipped.
export function capture(relativePath: string): string | undefined {
  const path = join(capturesDir, relativePath);
  if (existsSync(path)) return path;
  console.log(`  skipped: capture ${path} not found (set FIELDSENSE_CAPTURES to the captures folder)`);
  return undefined;
}

export function expectedOutput(relativePath: string): string | undefined {
  return capture(join("expected", relativePath));
}
