// A small tmpfs for tests of a full disk. Mounting needs root (or
// CAP_SYS_ADMIN), so without it withTmpfs runs nothing and returns false,
// and the calling test passes as skipped.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Runs `body` with a fresh tmpfs of `size` (mount syntax, such as "300k")
// mounted on a new folder, then unmounts and removes it.
export async function withTmpfs(size: string, body: (dir: string) => Promise<void>): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-tmpfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "ignore" });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return false;
  }
  try {
    await body(dir);
  } finally {
    execFileSync("umount", [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
  return true;
}
