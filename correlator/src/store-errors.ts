// Sorts the errors of a store write into the store's own failures, which may
// pass (a full disk, an I/O error, a lost PostgreSQL connection), and the
// rest, which come from the message and happen again on every retry.

// SQLite primary result codes of a store that may recover without a change
// to the message: better-sqlite3 reports them as SqliteError.code, with the
// extended codes as SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED and so on.
// https://www.sqlite.org/rescode.html
const SQLITE_TRANSIENT = ["SQLITE_FULL", "SQLITE_IOERR", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_NOMEM"];

// PostgreSQL SQLSTATE classes and codes of the same kind: 08 connection
// exception, 53 insufficient resources (53100 disk_full), 57P01-57P03
// server shutdown or startup, 58030 io_error, 40001 serialization_failure
// and 40P01 deadlock_detected.
// https://www.postgresql.org/docs/current/errcodes-appendix.html
const PG_TRANSIENT_CLASSES = ["08", "53"];
const PG_TRANSIENT_CODES = ["57P01", "57P02", "57P03", "58030", "40001", "40P01"];

// Socket errors of a connection to the PostgreSQL server.
const SOCKET_CODES = ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"];

// pg and pg-pool (pg 8) raise these without a code when the connection
// closes or cannot be opened in time.
const PG_CONNECTION_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect)/;

// Whether a failed store write may succeed when retried unchanged.
export function isTransientStoreError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string") {
    if (SQLITE_TRANSIENT.some((prefix) => code === prefix || code.startsWith(`${prefix}_`))) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && (PG_TRANSIENT_CLASSES.includes(code.slice(0, 2)) || PG_TRANSIENT_CODES.includes(code))) return true;
    if (SOCKET_CODES.includes(code)) return true;
  }
  return error instanceof Error && PG_CONNECTION_MESSAGES.test(error.message);
}

// The code of a store error for the log, such as SQLITE_FULL or 08006.
export function storeErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
