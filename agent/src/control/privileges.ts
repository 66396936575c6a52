// Switching from root to the unprivileged user of the configuration, after
// the capture handle and the control socket are open.
import { chownSync, existsSync, readFileSync } from "node:fs";

export interface Account { user: string; uid: number; gid: number }

export class PrivilegeError extends Error {
  readonly code = "FIELDSENSE_PRIVILEGES";
}

// Looks `user` (a name or a numeric id) and `group` up in /etc/passwd and
// /etc/group. Without `group` the user's primary group is taken.
export function lookupAccount(user: string, group?: string): Account {
  const passwd = readFileSync("/etc/passwd", "utf8").split("\n").map((line) => line.split(":"));
  const entry = passwd.find((fields) => fields[0] === user || (/^[0-9]+$/.test(user) && fields[2] === user));
  if (!entry) throw new PrivilegeError(`user "${user}" not found in /etc/passwd; create it (useradd --system --no-create-home ${user}) or set user to an existing account`);
  let gid = Number(entry[3]);
  if (group !== undefined) {
    const groups = readFileSync("/etc/group", "utf8").split("\n").map((line) => line.split(":"));
    const found = groups.find((fields) => fields[0] === group || (/^[0-9]+$/.test(group) && fields[2] === group));
    if (!found) throw new PrivilegeError(`group "${group}" not found in /etc/group; create it or set group to an existing group`);
    gid = Number(found[2]);
  }
  return { user: entry[0], uid: Number(entry[2]), gid };
}

// Gives `paths` (those that exist) to the account, so that the agent can
// still write its data directory and remove its socket after the switch.
export function handOver(account: Account, paths: string[]): void {
  for (const path of paths) {
    if (existsSync(path)) chownSync(path, account.uid, account.gid);
  }
}

// Drops supplementary groups, then the group, then the user: in that order,
// because after setuid the process may no longer change its groups.
export function dropPrivileges(account: Account): void {
  if (typeof process.setuid !== "function" || typeof process.setgid !== "function" || typeof process.setgroups !== "function") {
    throw new PrivilegeError("this platform cannot change the process user (no setuid); remove user from the configuration");
  }
  if (process.getuid?.() !== 0) {
    if (process.getuid?.() === account.uid) return;
    throw new PrivilegeError(`cannot switch to user ${account.user} (uid ${account.uid}): the agent runs as uid ${process.getuid?.()}, not root; start it as root or remove user from the configuration`);
  }
  process.setgroups([account.gid]);
  process.setgid(account.gid);
  process.setuid(account.uid);
  if (process.getuid() !== account.uid || process.geteuid?.() !== account.uid) {
    throw new PrivilegeError(`switching to user ${account.user} (uid ${account.uid}) did not take effect; the agent stops rather than parse packets as root`);
  }
}
