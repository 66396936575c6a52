// Default locations of the correlator's store and reports: FIELDSENSE_DATA_DIR,
// else .fieldsense/ in the working directory.
import { join, resolve } from "node:path";

export function dataDir(): string {
  return resolve(process.env.FIELDSENSE_DATA_DIR ?? ".fieldsense");
}

export function defaultDbPath(): string {
  return join(dataDir(), "correlator.db");
}

export function defaultReportsDir(): string {
  return join(dataDir(), "reports");
}
