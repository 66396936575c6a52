// Help text of every command, kept apart from the commands so that
// `fieldsense --help` loads neither the core nor the broker.
import { DEFAULT_AGENT_DATA_DIR, DEFAULT_CONTROL_SOCKET, DEFAULT_SITE, MAX_PACING_GAP_SEC } from "../config/config.js";

// Defined here so that help loads neither the core nor mqtt.js. The replay
// uses LEARNING_SUMMARY_SCORE from here; test/cli/replay-output.test.ts checks
// that DEFAULT_BROKER_TIMEOUT_MS equals the publisher's DEFAULT_ACK_TIMEOUT_MS.
export const LEARNING_SUMMARY_SCORE = 50;
export const DEFAULT_BROKER_TIMEOUT_MS = 10_000;

export const MAIN_HELP = `Usage: fieldsense COMMAND [options]

Passive threat detection for plant networks.

Commands:
  agent            capture live on an interface and run as the gateway service
  status           show what the running agent is doing (capture, drops, broker)
  alerts           list the running agent's alerts, or follow new ones
  assets           list hosts and the OT asset inventory (roles, polling periods)
  extract          write files carried by SMB in captures, or list those the agent saw
  pcap             write the packets of an alert, flow, host or time range
                   from the packet ring to a pcapng file
  config check F   validate an agent configuration file
  modbus identify  ask one Modbus device for its identification (FC 43/14)
  replay FILE...   replay pcap/pcapng files through the decoder and the models
  correlator       subscribe to gateways' alerts, store them, build incidents
  report           print incident reports from the correlator's store
  search QUERY     search the correlator's alerts and records (docs/search.md)
  demo [FILE...]   run broker, correlator and a replay locally, print the result
  models list      list the detection models; "models show ID" explains one
  profiles list    list, validate or match the firmware profiles
  help [COMMAND]   show help for a command

Run "fieldsense COMMAND --help" for the options of a command, and
"fieldsense --version" for the version.

Exit codes: 0 success, 1 failure (the message on stderr says what failed),
2 usage error (an unknown option or a missing argument).
Colour is used only when the output is a terminal and NO_COLOR is not set.
`;

export const HELP_HELP = `Usage: fieldsense help [COMMAND]

Shows the list of commands, or the help of COMMAND (the same text as
"fieldsense COMMAND --help").

Options:
  -h, --help       show this help

Exit codes: 0 help shown, 2 usage error (an unknown COMMAND).
`;

export const REPLAY_HELP = `Usage: fieldsense replay FILE... [options]

Replays pcap or pcapng files through the decoder and the detection models.
FILE may also be a pipe or FIFO, and "-" reads standard input, as in
"tcpdump -w - | fieldsense replay -".
Alerts are printed for people on stdout; a summary (packets, records, alerts,
anomalies) goes to stderr. Learning alerts scored below ${LEARNING_SUMMARY_SCORE} are
summed up in one line per model (--all prints each one; --json always does).

Files that are not read to their end are named in the summary with the byte
offset where reading stopped, and the other files still run:
  - a file that cannot be opened (not found, a directory, permission denied),
    is not a capture, or has an impossible record or block length is an
    error, and the exit code is 1;
  - a last record cut short by the end of the file (a capture stopped or
    copied while being written) is a warning, and the exit code stays 0.

Options:
  --json            print alerts as NDJSON (one JSON object per line, type "alert")
  --records         print protocol records as NDJSON; with --json, alerts and
                    records share the stream, told apart by "type"
  --all             print every alert, learning alerts with low scores included
  --broker URL      also publish alerts and selected records to this MQTT broker
                    (mqtt://HOST:PORT or mqtts://HOST:PORT), QoS 1; alerts the
                    broker does not acknowledge make the exit code 1
  --timeout-ms N    milliseconds to wait for the broker's CONNACK and for each
                    PUBACK (default ${DEFAULT_BROKER_TIMEOUT_MS})
  --site S          site name in alerts and topics (default "${DEFAULT_SITE}")
  --gateway G       gateway name in alerts and topics (default: the host name)
  --models DIR      folder of model files (default: the package's models/)
  --timezone ZONE   IANA time zone of the plant, such as Europe/Berlin, for
                    the baselines' hour of day (default UTC), as
                    baselines.timezone sets it for the agent
  --profiles PATH   firmware profile file or folder for the profile checks
                    (repeatable; default: the package's firmware-profiles/)
  --speed X         pace the replay at X times the captured rate: 1 is real
                    time, 2 twice as fast, 0 as fast as possible (default 0);
                    a gap of more than ${MAX_PACING_GAP_SEC} s of packet time between two packets,
                    or packet time going back, is not waited for, and stderr
                    says so
  --ring DIR        also keep the packets and alerts in a packet ring in DIR
                    (created when missing), for "fieldsense pcap --ring DIR"
  -h, --help        show this help

On a terminal, stderr shows a progress bar with the rate (MB/s) and the time left.

SIGTERM or SIGINT stops the reading. The replay then waits up to --timeout-ms
for the broker's acknowledgements and prints the summary and the counts of
acknowledged and unacknowledged messages. A second signal ends it at once.

Exit codes: 0 every file read (a last record cut short is allowed), 1 a file
could not be read, the broker did not acknowledge an alert, or the packet
ring could not store every packet (a full disk), 2 usage error,
130 stopped by SIGINT, 143 stopped by SIGTERM (both after the summary),
141 stdout closed early (replay ... | head).
`;

export const CORRELATOR_HELP = `Usage: fieldsense correlator [--config FILE] --broker URL [--db FILE|URL] [options]
                            [--console PORT [--console-host HOST] [--console-login]]
       fieldsense correlator --hash-password

Subscribes to fieldsense/v1/+/+/alerts and .../records, validates and stores
alerts and records in SQLite or PostgreSQL, groups alerts into incidents over
hosts, accounts, files and OT devices, ranks them and writes one report per
incident (Markdown and HTML). Runs until SIGINT or SIGTERM. Logs go to stderr.

Options:
  --config FILE             YAML file with the settings below (keys as in
                            deploy/correlator.example.yaml); options override it
  --broker URL              MQTT broker to subscribe to, e.g. mqtt://127.0.0.1:1883
  --db FILE|URL             SQLite store file, or a postgres://USER@HOST/DB URL
                            (default: ${"$"}FIELDSENSE_DATA_DIR/correlator.db, or
                            .fieldsense/correlator.db)
  --reports DIR             folder for incident-<id>.md and .html (default: reports/
                            beside a SQLite store, or beside the default SQLite
                            path for PostgreSQL)
  --window-minutes N        alerts sharing a host, account or file within N
                            minutes of packet time join one incident (default 240)
  --share-group NAME        join the MQTT 5 shared-subscription group NAME
                            ($share/NAME/...), which shares messages among its
                            members; each needs the same PostgreSQL --db and its
                            own --client-id
  --client-id ID            MQTT client id (default: one per host)
  --critical-hosts LIST     comma-separated IPs or host names that raise the rank
                            of incidents touching them
  --min-incident-score N    alerts scored below N (0-100) open no incident
                            (default 40)
  --retention-days N        delete alerts and records stored more than N days ago
  --retention-max-mb N      delete the oldest alerts and records while their JSON
                            exceeds N MiB
  --console PORT            serve the web console on this TCP port (0 picks a free
                            one); see docs/console.md
  --console-host HOST       address the console binds to (default 127.0.0.1); any
                            address beyond loopback needs a password hash
  --console-login           ask for the password on loopback too
  --hash-password           read a password from stdin, print its hash and exit
  -h, --help                show this help

Environment:
  FIELDSENSE_CONSOLE_PASSWORD_HASH   the console password's hash, from
                            --hash-password; sessions last 8 hours

"fieldsense correlator pcap ALERT_ID..." fetches alerts' packets from the
gateways; see "fieldsense correlator pcap --help".

A store failure that may pass (disk full, I/O error, lost PostgreSQL
connection) leaves messages unacknowledged and retries them with backoff.

Exit codes: 0 stopped by SIGINT or SIGTERM, 1 invalid --config file, failed
to start, lost alerts the store rejected (the log names each one), or stopped
while the store was unavailable, 2 usage error.
`;

export const REPORT_HELP = `Usage: fieldsense report [--db FILE|URL] [--incident ID] [--html]

Prints incident reports (Markdown) from the correlator's store, highest rank
first, after a table of the incidents by rank.

Options:
  --html           print one HTML page instead of Markdown
  --db FILE|URL    SQLite store or postgres:// URL (default:
                   ${"$"}FIELDSENSE_DATA_DIR/correlator.db, or .fieldsense/correlator.db)
  --incident ID    print only this incident
  -h, --help       show this help

Exit codes: 0 printed (or no incidents yet), 1 the store or the incident was
not found, 2 usage error.
`;

export const SEARCH_HELP = `Usage: fieldsense search QUERY [--db FILE|URL] [--json] [--limit N]

Searches the alerts and records in the correlator's store and prints the
newest matches first, one per line; the number of hits goes to stderr.

Query examples (the full grammar is in docs/search.md):
  *.job AND smb                    a value ending in .job, in SMB rows
  record.share:*ADMIN$ last 60d    records on an ADMIN$ share in the last 60 days
  score>=70 AND NOT site:lab       alerts scored 70 or more outside site lab
  ip:10.10.1.20 from 2026-11-01 to 2026-11-03
  "CreateServiceW" OR mitre:T1053*

Options:
  --db FILE|URL    SQLite store (default: ${"$"}FIELDSENSE_DATA_DIR/correlator.db, or
                   .fieldsense/correlator.db), or a postgres:// URL
  --json           print each hit as one JSON object per line (NDJSON)
  --limit N        print at most N hits (default 100, at most 10000)
  -h, --help       show this help

Exit codes: 0 searched (no hits included), 1 the store cannot be opened or
read, 2 usage error or an invalid query (the message points at the bad token).
`;

export const DEMO_HELP = `Usage: fieldsense demo [FILE...] [--data DIR] [--models DIR]

Runs the whole chain locally: starts an MQTT broker (aedes) on 127.0.0.1 on a
free port, starts the correlator, replays the capture files (default: the
project's sample plant capture) publishing alerts and records, waits until the
correlator has stored every alert, prints the alerts and the incident reports,
and stops everything. Nothing listens beyond the loopback interface. A file
that cannot be read is reported in the summary and the other files still
run; the exit code is then 1.

Options:
  --data DIR     keep the store (correlator.db) and reports in DIR; by default a
                 temporary folder is used and removed at the end
  --models DIR   folder of model files (default: the package's models/)
  --site S       site name (default "demo")
  --gateway G    gateway name (default "gateway-1")
  --all          print every alert; otherwise learning alerts scored below
                 ${LEARNING_SUMMARY_SCORE} are summed up in one line per model
  -h, --help     show this help

Exit codes: 0 every file replayed, every alert stored and every report
written, 1 a file could not be read, an alert was not stored or a report not
written (a full disk, for example) or a step failed (stderr says which),
2 usage error.
`;

const INSPECT_EXIT_CODES = `Exit codes: 0 success, 1 no agent answers on the control socket or the
request failed (stderr names the socket), 2 usage error.`;

// The --socket and --config lines, with descriptions from `column` on, so
// that they line up with the other options of each help text.
function socketHelp(column: number): string {
  const option = (name: string) => `  ${name}`.padEnd(column);
  const indent = " ".repeat(column);
  return `${option("--socket PATH")}control socket of the agent (default: FIELDSENSE_SOCKET,
${indent}else control.socket of --config, else ${DEFAULT_CONTROL_SOCKET})
${option("--config FILE")}read the socket path from this agent configuration file`;
}

export const AGENT_HELP = `Usage: fieldsense agent [--config FILE] [options]

Captures live on a network interface (node-pcap), decodes and scores the
traffic, publishes alerts and selected records over MQTT, and answers the CLI
on a local control socket. Opens the capture as root (or with CAP_NET_RAW),
then switches to the configured user before it parses any packet. Runs until
SIGTERM or SIGINT, which stop the capture, flush the publisher and write the
baseline snapshot. SIGHUP reloads the configuration file and the models.
Logs are JSON lines (pino) on stdout, for journald.

Options (each overrides the same key of the configuration file):
  --config FILE        YAML configuration (see "fieldsense config check")
  -i, --interface IF   capture interface (capture.interface), e.g. eth1
  --filter EXPR        BPF filter, pcap-filter(7) syntax (capture.filter)
  --snap-length N      bytes kept per packet, 64 to 262144 (default 65535)
  --no-promiscuous     do not put the interface in promiscuous mode
  --buffer-bytes N     kernel capture buffer in bytes (default 16777216)
  --user NAME          user to switch to after opening the capture
  --group NAME         group to switch to (default: the user's primary group)
  --socket PATH        control socket (default ${DEFAULT_CONTROL_SOCKET})
  --data-dir DIR       baseline snapshots and state (default ${DEFAULT_AGENT_DATA_DIR})
  --models DIR         folder of model files (default: the package's models/)
  --broker URL         MQTT broker (default: an embedded broker on 127.0.0.1,
                       on a free port)
  --site S             site name in alerts and topics (default "${DEFAULT_SITE}")
  --gateway G          gateway name (default: the host name)
  --log-level L        trace, debug, info, warn, error, fatal or silent (default info)
  -h, --help           show this help

Exit codes: 0 stopped cleanly on SIGTERM or SIGINT, 1 failed to start (an
invalid configuration, a capture that cannot be opened) or the capture
failed while running (stderr and the log say why), 2 usage error.
`;

export const STATUS_HELP = `Usage: fieldsense status [--json] [--socket PATH]

Shows the running agent's state: capture interface and filter, packets and
packets per second, libpcap drops, broker link with messages published and
the outbox (messages not yet acknowledged), records and alerts, models, and
baseline snapshots.

Options:
  --json           print the status as one JSON object
${socketHelp(19)}
  -h, --help       show this help

${INSPECT_EXIT_CODES}
`;

export const ALERTS_HELP = `Usage: fieldsense alerts [--follow] [--since TIME] [--limit N] [--json] [--socket PATH]

Lists the alerts the running agent keeps (store.alerts, default 10000),
oldest first.

Options:
  -f, --follow     keep running and print new alerts as they come, until Ctrl-C
  --since TIME     only alerts whose packet time is at or after TIME: an ISO
                   8601 time (2026-01-31T08:00:00Z) or a duration back from
                   now (30s, 15m, 2h, 7d)
  --limit N        only the latest N alerts
  --json           print alerts as NDJSON (one alert object per line)
${socketHelp(19)}
  -h, --help       show this help

${INSPECT_EXIT_CODES}
`;

export const ASSETS_HELP = `Usage: fieldsense assets [--json] [--ot] [--socket PATH]
       fieldsense assets --capture FILE... [--profiles PATH]... [--json]

Lists the hosts the running agent has seen in protocol records: the ports each
host answered on, the protocols decoded there, and for Modbus the role
(master or device), the unit ids and the function codes.

With --ot, or with --capture, prints the OT asset inventory instead: each
device with its Ethernet address (of the last hop: a routed host shows its
router's), role (master sends requests, server answers them), unit ids,
function codes, the register ranges requests read and wrote, the identity it
reported (FC 43/14, FC 17, or another protocol's identity fields), the
firmware profiles that apply, first and last seen; then the polling period of
each master and server pair (the median interval in seconds between repeats
of the same request); then the advisories that name a device's revision.

Options:
  --capture FILE... build the inventory from pcap or pcapng files instead of
                    asking the agent; the arguments after FILE are capture
                    files too, and --capture may be repeated
  --profiles PATH   firmware profile file or folder (repeatable; default: the
                    profiles shipped with the package)
  --identities FILE identities from "fieldsense modbus identify
                    --update-inventory FILE", added before the replay
  --models DIR      folder of model files for the replay (default: shipped)
  --ot              ask the running agent for its OT inventory
  --json            print JSON: the hosts as an array, or with --ot and
                    --capture the inventory {devices, polling, profiles, dropped}
${socketHelp(20)}
  -h, --help        show this help

Exit codes: 0 success, 1 no agent answers on the control socket or a capture
file cannot be read, 2 usage error.
`;

export const PROFILES_HELP = `Usage: fieldsense profiles list [--profiles PATH]... [--json]
       fieldsense profiles validate [FILE|FOLDER...] [--json]
       fieldsense profiles match --capture FILE... [--profiles PATH]... [--json]
       fieldsense profiles match [--socket PATH] [--profiles PATH]... [--json]

Firmware profiles (YAML, validated against firmware-profiles/profile.schema.json)
state what a device family implements: function codes, readable and writable
register ranges, expected masters, dangerous operations and the advisories
that name vulnerable revisions. A profile applies to a device by configured
address or by the identity the device reported.

  list       print the profiles
  validate   check profile files; an error names the file, the line and the
             key. Exit code 0 when all are valid, 1 when one is not
  match      print which devices each profile applies to, from capture files
             (--capture) or from the running agent's inventory, with the
             advisories for the device's revision

Options:
  --profiles PATH   profile file or folder (repeatable; default: the profiles
                    shipped with the package)
  --capture FILE... captures to build the inventory from; the arguments
                    after FILE are capture files too, and --capture may be
                    repeated
  --identities FILE identities from "fieldsense modbus identify
                    --update-inventory FILE", added before the replay
  --models DIR      folder of model files for the replay (default: shipped)
  --json            print one JSON object per line
${socketHelp(20)}
  -h, --help        show this help

Exit codes: 0 success (validate: every profile valid), 1 an invalid or
unreadable profile, a capture that cannot be read, or no agent on the
socket, 2 usage error.
`;

export const EXTRACT_HELP = `Usage: fieldsense extract CAPTURE... --out DIR [--force] [--max-bytes N] [--json]
       fieldsense extract [--json] [--socket PATH]

With capture files (pcap or pcapng): writes every file read or written over
SMB in them to DIR, named after the file's last path component (characters
other than letters, digits, '.', '_' and '-' become '_'), and DIR/index.json
listing each file: path, share, sha256, size, type, direction, account, flow.
A file is written only when every byte was seen and its content matches the
SHA-256 the core computed; the index says why another was not. Existing
files are never replaced without --force.

Without capture files: lists the files the running agent has seen opened,
read or written over SMB (not named pipes): server, share, path, client,
size, bytes read and written, content type and SHA-256 (when every byte
was seen). The agent keeps protocol records, not file contents, so that
list does not include their bytes.

Options:
  --out DIR        folder to write the files and index.json to (created if missing)
  --force          replace files of the same name in DIR
  --max-bytes N    bytes of file content held on disk at once for files not
                   yet closed (default 1073741824); files past it are skipped
  --json           print the files as a JSON array
${socketHelp(19)}
  -h, --help       show this help

Exit codes: 0 success, 1 a capture cannot be read, a file cannot be written
(it exists and --force is not given, or the disk is full; index.json still
lists the files written) or no agent answers on the control socket, 2 usage
error.
`;

export const MODBUS_HELP = `Usage: fieldsense modbus identify HOST[:PORT] [options]

Asks one Modbus/TCP device for its identification (vendor, product code,
revision, and more at higher levels) with Read Device Identification,
function code 43 / MEI type 14; a device that rejects it as an illegal
function is asked for its server id (Report Server ID, function code 17)
instead. This is the only command that sends to a
plant device: it is read-only, sends one request at a time and at most one
per --interval-ms, and stops after 16 requests. The passive agent never
sends; run this only where active requests are allowed.

Options:
  --unit N           unit id, 0 to 255 (default 255, the value the Modbus/TCP
                     implementation guide gives for a device addressed by its
                     IP address; behind a gateway use the device's unit id)
  --level L          basic, regular or extended objects (default regular)
  --interval-ms N    milliseconds between requests, at least 100 (default 500)
  --timeout-ms N     milliseconds to wait for a connection or a response
                     (default 3000)
  --update-inventory FILE
                     add the result to FILE (JSON, created when missing), which
                     "fieldsense assets --identities FILE" and "fieldsense
                     profiles match --identities FILE" read
  --json             print the identification as one JSON object
  -h, --help         show this help

Exit codes: 0 the device answered, 1 no connection, no answer in time or an
exception to every request, 2 usage error.
`;

export const CONFIG_HELP = `Usage: fieldsense config check FILE [--json]

Validates an agent configuration file against its JSON Schema and the rules
between keys, and resolves \${NAME} references to environment variables.
An error names the file, the line, the key and what is allowed.

Options:
  --json           print {"valid": ..., "config" or "error": ...} as JSON
  -h, --help       show this help

Exit codes: 0 valid, 1 invalid or unreadable file, 2 usage error.
`;

export const MODELS_HELP = `Usage: fieldsense models list [--models DIR] [--json]
       fieldsense models show ID [--models DIR] [--json]

Lists the detection models, or explains one in words: its logic, the
conditions it checks, its frequency, its scorer, how the baselines raise or
lower its score, and its ATT&CK technique ids. An invalid model file is
reported with its file, line and key.

Options:
  --models DIR      folder of model files (default: the models shipped with the package)
  --json            print JSON instead of text (one object per line for list)
  -h, --help        show this help

Exit codes: 0 success, 1 an invalid model file or an unknown ID, 2 usage error.
`;

export const PCAP_HELP = `Usage: fieldsense pcap (--alert ID | --flow FLOW | --host IP | --from T --to T) -o FILE [options]

Cuts packets out of the packet ring that the agent (or "fieldsense replay
--ring DIR") keeps, and writes them to a pcapng file that Wireshark and tshark
open. The file has one interface block per link type and a comment on its
first packet naming what was asked for. Selections combine: --alert with
--from narrows the alert's window, --flow with --host keeps that flow.

Options:
  --alert ID        the alert's flow, from --before seconds ahead of the alert
                    to --after seconds past it
  --flow FLOW       one conversation: "tcp 10.0.0.1:49158 10.0.0.2:445" or
                    "10.0.0.1:49158-10.0.0.2:445/tcp" (either direction)
  --host IP         packets to or from this address
  --from T, --to T  packet time bounds: ISO 8601 ("2026-11-03T10:00:00Z") or
                    seconds since 1970
  --before N        seconds of the alert's flow kept ahead of the alert (default 600)
  --after N         seconds kept past the alert (default 60)
  -o, --output FILE the pcapng to write (an existing file is replaced)
  --ring DIR        the packet ring folder (default: ring.dir of --config, or
                    DATA_DIR/ring, ${DEFAULT_AGENT_DATA_DIR}/ring)
  --config FILE     the agent's configuration file, to find its ring
  --json            print what was written as one JSON object
  -h, --help        show this help

Exit codes: 0 written, 1 nothing matched or the ring cannot be read (the
message says which and what the ring holds), 2 usage error.
`;

export const CORRELATOR_PCAP_HELP = `Usage: fieldsense correlator pcap ALERT_ID... [--incident ID] --broker URL [options]

Asks the gateway that raised each alert for its packets, over MQTT (the
request and answer topics are in docs/ring.md), and stores each capture with
its incident: CAPTURES/incident-N/ALERT_ID.pcapng, with a .json beside it that
records the gateway, the size, the SHA-256 and the time of the request. The
gateway answers only requesters named in its pcap_requests.requesters.

Options:
  --incident ID     every alert of this incident (may be given with alert ids)
  --broker URL      the MQTT broker the gateways publish to
  --db FILE         the correlator's store (default: the data directory's)
  --captures DIR    where captures are stored (default: captures/ beside the store)
  --requester NAME  the name this correlator asks with (default "correlator")
  --timeout-ms N    milliseconds to wait for each answer (default 30000)
  --json            print one JSON object per capture
  -h, --help        show this help

Exit codes: 0 every capture stored, 1 an alert, incident or store not found,
or a gateway refused, no longer had the packets, or did not answer (each is
named on stderr), 2 usage error.
`;
