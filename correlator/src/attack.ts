// MITRE ATT&CK tactics of the techniques that alerts name, for Enterprise
// (T1xxx) and ICS (T0xxx), and the progressions the correlator recognises.
//
// Source: ATT&CK v18 (October 2025) tactic assignments, the release the
// technique pages showed when this table was written. ATT&CK v19 (May 2026)
// splits Enterprise Defense Evasion (TA0005) into Stealth and Defense
// Impairment and adds ICS sub-techniques (T0xxx.yyy).
// NOTE: this table still uses TA0005 for the defense-evasion techniques, and
// an ICS sub-technique that it does not list takes the tactics of its parent.

export type AttackDomain = "enterprise" | "ics";

export interface Tactic {
  id: string;
  name: string;
  domain: AttackDomain;
}

export const TACTICS: Readonly<Record<string, Tactic>> = Object.fromEntries(([
  ["TA0043", "Reconnaissance", "enterprise"],
  ["TA0042", "Resource Development", "enterprise"],
  ["TA0001", "Initial Access", "enterprise"],
  ["TA0002", "Execution", "enterprise"],
  ["TA0003", "Persistence", "enterprise"],
  ["TA0004", "Privilege Escalation", "enterprise"],
  ["TA0005", "Defense Evasion", "enterprise"],
  ["TA0006", "Credential Access", "enterprise"],
  ["TA0007", "Discovery", "enterprise"],
  ["TA0008", "Lateral Movement", "enterprise"],
  ["TA0009", "Collection", "enterprise"],
  ["TA0011", "Command and Control", "enterprise"],
  ["TA0010", "Exfiltration", "enterprise"],
  ["TA0040", "Impact", "enterprise"],
  ["TA0108", "Initial Access", "ics"],
  ["TA0104", "Execution", "ics"],
  ["TA0110", "Persistence", "ics"],
  ["TA0111", "Privilege Escalation", "ics"],
  ["TA0103", "Evasion", "ics"],
  ["TA0102", "Discovery", "ics"],
  ["TA0109", "Lateral Movement", "ics"],
  ["TA0100", "Collection", "ics"],
  ["TA0101", "Command and Control", "ics"],
  ["TA0107", "Inhibit Response Function", "ics"],
  ["TA0106", "Impair Process Control", "ics"],
  ["TA0105", "Impact", "ics"],
] as const).map(([id, name, domain]) => [id, { id, name, domain }]));

export interface Technique {
  name: string;
  tactics: string[];
}

// Techniques by id. Sub-techniques not listed take their parent's entry.
export const TECHNIQUES: Readonly<Record<string, Technique>> = {
  // Enterprise
  T1003: { name: "OS Credential Dumping", tactics: ["TA0006"] },
  "T1003.006": { name: "OS Credential Dumping: DCSync", tactics: ["TA0006"] },
  T1018: { name: "Remote System Discovery", tactics: ["TA0007"] },
  T1021: { name: "Remote Services", tactics: ["TA0008"] },
  "T1021.001": { name: "Remote Services: Remote Desktop Protocol", tactics: ["TA0008"] },
  "T1021.002": { name: "Remote Services: SMB/Windows Admin Shares", tactics: ["TA0008"] },
  "T1021.004": { name: "Remote Services: SSH", tactics: ["TA0008"] },
  "T1021.005": { name: "Remote Services: VNC", tactics: ["TA0008"] },
  "T1021.006": { name: "Remote Services: Windows Remote Management", tactics: ["TA0008"] },
  T1040: { name: "Network Sniffing", tactics: ["TA0006", "TA0007"] },
  T1046: { name: "Network Service Discovery", tactics: ["TA0007"] },
  T1047: { name: "Windows Management Instrumentation", tactics: ["TA0002"] },
  T1049: { name: "System Network Connections Discovery", tactics: ["TA0007"] },
  T1053: { name: "Scheduled Task/Job", tactics: ["TA0002", "TA0003", "TA0004"] },
  "T1053.002": { name: "Scheduled Task/Job: At", tactics: ["TA0002", "TA0003", "TA0004"] },
  "T1053.005": { name: "Scheduled Task/Job: Scheduled Task", tactics: ["TA0002", "TA0003", "TA0004"] },
  T1069: { name: "Permission Groups Discovery", tactics: ["TA0007"] },
  "T1069.002": { name: "Permission Groups Discovery: Domain Groups", tactics: ["TA0007"] },
  T1070: { name: "Indicator Removal", tactics: ["TA0005"] },
  "T1070.001": { name: "Indicator Removal: Clear Windows Event Logs", tactics: ["TA0005"] },
  T1071: { name: "Application Layer Protocol", tactics: ["TA0011"] },
  T1078: { name: "Valid Accounts", tactics: ["TA0005", "TA0003", "TA0004", "TA0001"] },
  T1087: { name: "Account Discovery", tactics: ["TA0007"] },
  "T1087.002": { name: "Account Discovery: Domain Account", tactics: ["TA0007"] },
  T1105: { name: "Ingress Tool Transfer", tactics: ["TA0011"] },
  T1110: { name: "Brute Force", tactics: ["TA0006"] },
  "T1110.001": { name: "Brute Force: Password Guessing", tactics: ["TA0006"] },
  "T1110.003": { name: "Brute Force: Password Spraying", tactics: ["TA0006"] },
  T1112: { name: "Modify Registry", tactics: ["TA0005"] },
  T1135: { name: "Network Share Discovery", tactics: ["TA0007"] },
  T1529: { name: "System Shutdown/Reboot", tactics: ["TA0040"] },
  T1543: { name: "Create or Modify System Process", tactics: ["TA0003", "TA0004"] },
  "T1543.003": { name: "Create or Modify System Process: Windows Service", tactics: ["TA0003", "TA0004"] },
  T1550: { name: "Use Alternate Authentication Material", tactics: ["TA0005", "TA0008"] },
  "T1550.002": { name: "Use Alternate Authentication Material: Pass the Hash", tactics: ["TA0005", "TA0008"] },
  "T1550.003": { name: "Use Alternate Authentication Material: Pass the Ticket", tactics: ["TA0005", "TA0008"] },
  T1558: { name: "Steal or Forge Kerberos Tickets", tactics: ["TA0006"] },
  "T1558.003": { name: "Steal or Forge Kerberos Tickets: Kerberoasting", tactics: ["TA0006"] },
  T1569: { name: "System Services", tactics: ["TA0002"] },
  "T1569.002": { name: "System Services: Service Execution", tactics: ["TA0002"] },
  T1570: { name: "Lateral Tool Transfer", tactics: ["TA0008"] },
  // ICS
  T0801: { name: "Monitor Process State", tactics: ["TA0100"] },
  T0804: { name: "Block Reporting Message", tactics: ["TA0107"] },
  T0806: { name: "Brute Force I/O", tactics: ["TA0106"] },
  T0809: { name: "Data Destruction", tactics: ["TA0107"] },
  T0812: { name: "Default Credentials", tactics: ["TA0109"] },
  T0814: { name: "Denial of Service", tactics: ["TA0107"] },
  T0815: { name: "Denial of View", tactics: ["TA0105"] },
  T0816: { name: "Device Restart/Shutdown", tactics: ["TA0107"] },
  T0821: { name: "Modify Controller Tasking", tactics: ["TA0104"] },
  T0831: { name: "Manipulation of Control", tactics: ["TA0105"] },
  T0836: { name: "Modify Parameter", tactics: ["TA0106"] },
  T0840: { name: "Network Connection Enumeration", tactics: ["TA0102"] },
  T0843: { name: "Program Download", tactics: ["TA0109"] },
  T0845: { name: "Program Upload", tactics: ["TA0100"] },
  T0846: { name: "Remote System Discovery", tactics: ["TA0102"] },
  T0848: { name: "Rogue Master", tactics: ["TA0108"] },
  T0855: { name: "Unauthorized Command Message", tactics: ["TA0106"] },
  T0857: { name: "System Firmware", tactics: ["TA0110", "TA0107"] },
  T0858: { name: "Change Operating Mode", tactics: ["TA0104", "TA0103"] },
  T0859: { name: "Valid Accounts", tactics: ["TA0110", "TA0109"] },
  T0861: { name: "Point & Tag Identification", tactics: ["TA0100"] },
  T0866: { name: "Exploitation of Remote Services", tactics: ["TA0108", "TA0109"] },
  T0867: { name: "Lateral Tool Transfer", tactics: ["TA0109"] },
  T0869: { name: "Standard Application Layer Protocol", tactics: ["TA0101"] },
  T0881: { name: "Service Stop", tactics: ["TA0107"] },
  T0885: { name: "Commonly Used Port", tactics: ["TA0101"] },
  T0886: { name: "Remote Services", tactics: ["TA0108", "TA0109"] },
  T0888: { name: "Remote System Information Discovery", tactics: ["TA0102"] },
};

// Looks a technique up, falling back from a sub-technique to its parent.
export function technique(id: string): Technique | undefined {
  return TECHNIQUES[id] ?? TECHNIQUES[id.split(".")[0]];
}

// Tactics of a set of technique ids, deduplicated, in table order.
export function tacticsOf(techniqueIds: Iterable<string>): Tactic[] {
  const ids = new Set<string>();
  for (const id of techniqueIds) for (const tactic of technique(id)?.tactics ?? []) ids.add(tactic);
  return Object.values(TACTICS).filter((tactic) => ids.has(tactic.id));
}

// The stages of the progression the correlator recognises, in order. An
// Enterprise tactic and its ICS counterpart count as the same stage.
export const STAGES = ["discovery", "credential_access", "lateral_movement", "execution"] as const;
export type Stage = typeof STAGES[number];

const STAGE_OF_TACTIC: Readonly<Record<string, Stage>> = {
  TA0007: "discovery", TA0102: "discovery",
  TA0006: "credential_access",
  TA0008: "lateral_movement", TA0109: "lateral_movement",
  TA0002: "execution", TA0104: "execution",
};

export const STAGE_NAMES: Readonly<Record<Stage, string>> = {
  discovery: "Discovery",
  credential_access: "Credential Access",
  lateral_movement: "Lateral Movement",
  execution: "Execution",
};

export function stagesOf(tactics: Iterable<string>): Stage[] {
  const stages = new Set<Stage>();
  for (const tactic of tactics) {
    const stage = STAGE_OF_TACTIC[tactic];
    if (stage) stages.add(stage);
  }
  return STAGES.filter((stage) => stages.has(stage));
}

// Packet times of the earliest and latest alert of one stage, in ms.
export interface StageSpan {
  firstMs: number;
  lastMs: number;
}

// Finds the longest run of stages, in STAGES order, that alerts reached in
// that order in time: a subsequence of at least two, or [] when there is none.
// Each stage is placed at its earliest alert not before the previous stage's
// time. From spans alone that alert's time is only known when it is the
// stage's first alert, so otherwise the stage's last alert is used. That
// never reports an order the alerts do not have, but can miss a longer run.
export function longestProgression(spans: ReadonlyMap<Stage, StageSpan>): Stage[] {
  let best: Stage[] = [];
  // Every subset of the four stages, in STAGES order.
  for (let mask = 1; mask < 1 << STAGES.length; mask++) {
    const chosen = STAGES.filter((_, i) => (mask & (1 << i)) !== 0);
    if (chosen.length < 2 || chosen.length <= best.length) continue;
    let time = -Infinity;
    let ordered = true;
    for (const stage of chosen) {
      const span = spans.get(stage);
      if (!span || span.lastMs < time) {
        ordered = false;
        break;
      }
      time = span.firstMs >= time ? span.firstMs : span.lastMs;
    }
    if (ordered) best = chosen;
  }
  return best;
}

// Record types of OT protocols: their servers are OT devices.
export const OT_RECORD_TYPES: ReadonlySet<string> = new Set(["modbus", "s7comm", "dnp3", "enip"]);

// ICS tactics whose techniques, on an OT protocol, mean a command that
// changes the process or the device.
const OT_COMMAND_TACTICS = new Set(["TA0104", "TA0105", "TA0106", "TA0107"]);

// Whether an alert reports an OT command: an OT protocol alert whose
// techniques belong to ICS Execution, Impair Process Control, Inhibit
// Response Function or Impact.
export function isOtCommandAlert(record: string | undefined, techniqueIds: string[]): boolean {
  if (record === undefined || !OT_RECORD_TYPES.has(record)) return false;
  return tacticsOf(techniqueIds).some((tactic) => OT_COMMAND_TACTICS.has(tactic.id));
}

// Whether an IT alert means its destination was reached from another host:
// Lateral Movement or remote Execution (a service or task created over the
// network runs code on the destination).
export function isItEntryAlert(record: string | undefined, techniqueIds: string[]): boolean {
  if (record !== undefined && OT_RECORD_TYPES.has(record)) return false;
  return tacticsOf(techniqueIds).some((tactic) => tactic.id === "TA0008" || tactic.id === "TA0002");
}

// Modbus function codes that write coils, registers or files.
const MODBUS_WRITE_FUNCTIONS = new Set([5, 6, 15, 16, 21, 22, 23]);
// Operation names of S7comm, DNP3 and EtherNet/IP requests that write or
// control a device, matched in the record's `function` or `service` field.
const OT_WRITE_NAME = /write|operate|select|plc_control|plc_stop|stop|start|restart|download|set_attribute/i;

// Whether a forwarded OT record is a request that writes to or controls a
// device.
// NOTE: the S7comm, DNP3 and EtherNet/IP names are matched by pattern on the
// `function` and `service` fields; those dissectors may name operations in
// other fields.
export function isOtCommandRecord(record: { type: string; [key: string]: unknown }): boolean {
  if (!OT_RECORD_TYPES.has(record.type)) return false;
  if (record.type === "modbus") {
    return record.pdu_type === "request" && typeof record.function_code === "number" && MODBUS_WRITE_FUNCTIONS.has(record.function_code);
  }
  for (const key of ["function", "service"]) {
    const value = record[key];
    if (typeof value === "string" && OT_WRITE_NAME.test(value)) return true;
  }
  return false;
}

// Recommended next steps per tactic, for the report.
export const NEXT_STEPS: Readonly<Record<string, string>> = {
  TA0007: "Check whether the source host runs inventory or administration tools; if not, treat its account as compromised and review what it enumerated.",
  TA0102: "Check whether the source is an engineering workstation or SCADA server that should query these devices; if not, isolate it.",
  TA0006: "Reset the passwords of the accounts involved, revoke their Kerberos tickets and look for logons with them from other hosts.",
  TA0008: "Isolate the destination host, collect its volatile state (processes, services, scheduled tasks) and list what else the source reached.",
  TA0109: "Check which OT devices the source reached and whether an engineering change was planned; compare device programs with the last known good copy.",
  TA0002: "Look at the service or task created on the destination (name, binary path, command) and stop it if nobody planned it.",
  TA0104: "Check the operating mode and program of the devices and whether an engineer changed them.",
  TA0003: "Remove the service or task that was installed and check the destination for other persistence.",
  TA0004: "Check which privileges the account used and whether it should have them.",
  TA0005: "Collect the destination's logs from another source (SIEM, backups) before they are cleared again.",
  TA0040: "Confirm with the system's owner whether the shutdown or change was planned.",
  TA0106: "Confirm with operations whether the written values or commands were intended; verify the process state and setpoints at the devices.",
  TA0107: "Check that safety and protection functions of the devices still respond.",
  TA0105: "Check the physical process with operations staff and prepare manual operation.",
  TA0101: "Identify the process behind the periodic connections on the source host.",
};

// Recommended next steps per model, for the models in models/. They come
// before the per-tactic steps in reports because they name what to look at.
export const MODEL_NEXT_STEPS: Readonly<Record<string, string>> = {
  "it-admin-share-executable": "Get the file written to the administrative share from the destination and hash it; check whether a deployment tool copies this file.",
  "it-dcsync": "Treat every domain account as exposed: reset the krbtgt account twice and the passwords of privileged accounts, and find how the source got replication rights.",
  "it-discovery-burst": "Ask the owner of the source host who ran the enumeration; look for lateral movement from the same host afterwards.",
  "it-eventlog-clear": "Collect the destination's logs from a forwarder or backup for the time before they were cleared.",
  "it-eventlog-clear-even6": "Collect the destination's logs from a forwarder or backup for the time before they were cleared.",
  "it-kerberos-failed-logon-burst": "Check the accounts that failed for lockouts and for a later successful logon from the same source.",
  "it-psexec-pipes": "Find the command that ran through the PsExec service on the destination (its event log, the service binary) and who started it.",
  "it-remote-registry-write": "Read the registry value that was written on the destination and revert it if nobody planned the change.",
  "it-remote-shutdown-initshutdown": "Confirm with the owner of the destination whether the shutdown was planned.",
  "it-remote-shutdown-winreg": "Confirm with the owner of the destination whether the shutdown was planned.",
  "it-remote-task-control": "List the scheduled tasks on the destination and what they run.",
  "modbus-write-not-master": "Compare the written registers or coils with the values the master expects, and find out why a host other than the master wrote them.",
  "ot-beaconing": "Identify the process on the source host that connects at fixed intervals, and where it connects.",
  "remote-service-svcctl": "Check the service's binary path on the destination, stop and remove the service if nobody planned it, and hash the binary.",
  "remote-task-atsvc": "Read the task's command in this report; remove the AT job on the destination and check what the command ran.",
  "remote-task-sasec": "Read the task's command in this report; remove the task on the destination and check what the command ran.",
  "remote-task-tsch-register": "Read the task's command in this report; remove the task on the destination and check what the command ran.",
  "access-cleartext-credentials-ftp": "Change the FTP password that crossed the network in cleartext and move the device to a protocol with encryption where it supports one.",
  "access-cleartext-credentials-http": "Change the password sent with HTTP Basic and put the device's web interface behind TLS where it supports it.",
  "access-cleartext-credentials-telnet": "Change the Telnet password that crossed the network in cleartext and disable Telnet where the device offers SSH.",
  "access-firmware-upload-ftp": "Compare the uploaded file with the vendor's firmware for this device and ask whether an update was planned.",
  "access-firmware-upload-http": "Compare the uploaded file with the vendor's firmware for this device and ask whether an update was planned.",
  "access-login-burst-ftp": "Check the accounts that failed for lockouts, and whether the burst ended in a successful login.",
  "access-login-burst-http": "Check the accounts that failed for lockouts, and whether the burst ended in a successful login.",
  "access-login-burst-target-ftp": "List the sources of the failed logins and block those that are not operators' stations.",
  "access-login-burst-target-http": "List the sources of the failed logins and block those that are not operators' stations.",
  "access-login-burst-target-telnet": "List the sources of the failed logins and block those that are not operators' stations.",
  "access-login-burst-target-vnc": "List the sources of the failed logins and block those that are not operators' stations.",
  "access-login-burst-telnet": "Check the accounts that failed for lockouts, and whether the burst ended in a successful login.",
  "access-login-burst-vnc": "Check whether the burst ended in a successful login and what the session did afterwards.",
  "access-new-remote-session-rdp": "Ask who opened the remote desktop session and whether it was planned maintenance.",
  "access-new-remote-session-ssh": "Ask who opened the SSH session and whether it was planned maintenance.",
  "access-new-remote-session-telnet": "Ask who opened the Telnet session and whether it was planned maintenance.",
  "access-new-remote-session-vnc": "Ask who opened the VNC session and whether it was planned maintenance.",
  "access-password-spray-ftp": "Reset the passwords of the tried accounts that exist, and block the source unless it is a known test.",
  "access-password-spray-http": "Reset the passwords of the tried accounts that exist, and block the source unless it is a known test.",
  "access-password-spray-telnet": "Reset the passwords of the tried accounts that exist, and block the source unless it is a known test.",
  "dnp3-control-not-master": "Confirm with operations whether the controlled points were meant to change, and find out why a host other than the master operated them.",
  "dnp3-disable-unsolicited": "Re-enable unsolicited reporting on the outstation if nobody planned the change, and check what the master missed meanwhile.",
  "dnp3-file-operation": "Ask the outstation's owner whether a file transfer was planned; compare its configuration and firmware with the last known good copy.",
  "dnp3-restart": "Confirm with operations whether the outstation restart was planned, and check that the outstation came back with its expected configuration.",
  "dnp3-stop-application": "Check that the outstation's application runs again, and find out who sent the stop.",
  "enip-forward-open": "Check whether the source is an engineering workstation or HMI that should hold connections to this device.",
  "enip-identity-reset": "Confirm with operations whether the device reset was planned, and check that the device came back with its expected configuration.",
  "enip-list-identity": "Check whether the source runs an inventory tool; if not, look for what it contacted after the scan.",
  "enip-set-attribute": "Read the attribute that was set and compare it with the device's expected configuration.",
  "it-ntlm-failed-logon-burst": "Check the accounts that failed for lockouts and for a later successful logon from the same source.",
  "it-task-file-transfer": "Read the task's command in this report and compare it with the tasks the destination should have.",
  "it-wmi-remote-exec": "Look at the process the WMI call started on the destination (its command line and parent) and who ran it.",
  "it-write-then-execute": "Get the written file named in this report from the destination, hash it, and stop the service or task that ran it.",
  "ot-beaconing-connections": "Identify the process on the OT device that opens connections at fixed intervals, and where it connects.",
  "ot-device-identification": "Check whether the source is an engineering or inventory tool that should identify this device.",
  "ot-device-to-it": "Find out why an OT device opened a connection out of its cell, and what runs on it.",
  "ot-device-to-it-smb": "Find out why an OT device opened an SMB connection out of its cell, and what it read or wrote.",
  "ot-diagnostics-listen-only": "Bring the device out of listen-only mode (a restart of communications) and find out who sent the command.",
  "ot-diagnostics-restart": "Confirm with operations whether the communications restart was planned, and check the device's event counters.",
  "ot-exception-storm": "Check the device's health and the requests that fail; a misconfigured master and a scan both look like this.",
  "ot-function-code-scan": "Isolate the source unless it is a known test tool; a function-code scan prepares commands the devices accept.",
  "ot-function-not-in-profile": "Check why the device received a function code its firmware profile does not list, and who sent it.",
  "ot-identification-scan": "Check whether the source runs an inventory tool; if not, isolate it and list the devices it identified.",
  "ot-illegal-function-burst": "Look at the function codes the source tried; many rejected codes from one host usually mean a scan.",
  "ot-new-device": "Check that the new device belongs on the OT network and add it to the inventory and its firmware profile.",
  "ot-new-master": "Check that the new master is an approved engineering or SCADA host, and what it commanded.",
  "ot-register-sweep": "Look at the addresses the source tried to read; a sweep maps the process before a change.",
  "ot-umas-program-download": "Compare the PLC's program with the last known good copy and ask whether an engineering change was planned.",
  "ot-umas-program-upload": "Find out who read the PLC's program and why; a copy of the logic helps an attacker plan a change.",
  "ot-umas-stop": "Restart the PLC only after operations confirm the process is safe, and find out who stopped it.",
  "ot-unauthorized-command-profile": "Find out why a host that the firmware profile does not list as a master commanded the device.",
  "ot-unit-id-sweep": "Check whether the source runs an inventory tool; if not, isolate it and list the unit ids that answered.",
  "ot-write-outside-profile": "Compare the written addresses with the device's register map and restore the values if nobody planned the write.",
  "s7-block-delete": "Compare the PLC's program blocks with the last known good copy and restore the deleted block.",
  "s7-password": "Check whether the PLC's protection level changed and who sent the password.",
  "s7-plc-start": "Confirm with operations whether the PLC start was planned.",
  "s7-plc-stop": "Restart the PLC only after operations confirm the process is safe, and find out who stopped it.",
  "s7-program-download": "Compare the PLC's program with the last known good copy and ask whether an engineering change was planned.",
  "s7-program-upload": "Find out who read the PLC's program and why; a copy of the logic helps an attacker plan a change.",
  "s7-szl-identity-read": "Check whether the source is an engineering workstation or inventory tool that should identify this PLC.",
};
