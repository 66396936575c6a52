// Console login: one shared password, kept as a scrypt hash, and sessions in
// memory behind an HttpOnly, SameSite=Strict cookie.
import { randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

// scrypt cost parameters (N, r, p) for new hashes; the hash string carries
// them, so stored hashes keep working if these change.
const SCRYPT_N = 16_384;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const KEY_BYTES = 32;

export const SESSION_COOKIE = "fieldsense_session";
// Sessions end this long after login, in seconds.
export const SESSION_TTL_SEC = 8 * 3600;

// Hashes a password as "scrypt$N$r$p$salt$key" (salt and key in base64).
export function hashConsolePassword(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, KEY_BYTES, { N: SCRYPT_N, r: SCRYPT_R, p: SCRYPT_P });
  return `scrypt$${SCRYPT_N}$${SCRYPT_R}$${SCRYPT_P}$${salt.toString("base64")}$${key.toString("base64")}`;
}

// Checks that `hash` has the form hashConsolePassword writes; returns the
// problem, or undefined.
export function checkPasswordHash(hash: string): string | undefined {
  const parts = hash.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt" || !parts.slice(1, 4).every((n) => /^[1-9][0-9]*$/.test(n))) {
    return 'the console password hash is not of the form "scrypt$N$r$p$SALT$KEY"; create one with "fieldsense correlator --hash-password" (the password is read from stdin)';
  }
  return undefined;
}

export function verifyConsolePassword(password: string, hash: string): boolean {
  const [, n, r, p, salt, key] = hash.split("$");
  const expected = Buffer.from(key, "base64");
  const actual = scryptSync(password, Buffer.from(salt, "base64"), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 256 * 1024 * 1024 });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

// Whether `host` is a loopback address or name: 127.0.0.0/8, ::1 or localhost.
// Host names are case-insensitive, so LOCALHOST passes too.
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (isIP(bare) === 6) return bare === "::1" || bare === "0:0:0:0:0:0:0:1" || /^::ffff:127\./i.test(bare);
  return false;
}

// Live sessions by id; expired ones are dropped when looked up or when a new
// one is created.
export class Sessions {
  private readonly expiries = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  create(): string {
    this.sweep();
    const id = randomBytes(32).toString("base64url");
    this.expiries.set(id, this.now() + SESSION_TTL_SEC * 1000);
    return id;
  }

  valid(id: string | undefined): boolean {
    if (id === undefined) return false;
    const expiry = this.expiries.get(id);
    if (expiry === undefined) return false;
    if (expiry <= this.now()) {
      this.expiries.delete(id);
      return false;
    }
    return true;
  }

  end(id: string | undefined): void {
    if (id !== undefined) this.expiries.delete(id);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, expiry] of this.expiries) if (expiry <= now) this.expiries.delete(id);
  }
}

// Counts failed logins in a sliding minute, so that guessing is slow.
export class LoginThrottle {
  private failures: number[] = [];

  constructor(readonly maxPerMinute = 10, private readonly now: () => number = Date.now) {}

  blocked(): boolean {
    const since = this.now() - 60_000;
    this.failures = this.failures.filter((t) => t > since);
    return this.failures.length >= this.maxPerMinute;
  }

  fail(): void {
    this.failures.push(this.now());
  }
}

export function sessionCookie(id: string): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_TTL_SEC}`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return rest.join("=");
  }
  return undefined;
}
