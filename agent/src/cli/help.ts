// Help text of every command, kept apart from the commands so that
// `fieldsense --help` loads neither the core nor the broker.
import { DEFAULT_AGENT_DATA_DIR, DEFAULT_CONTROL_SOCKET, DEFAULT_SITE } from "../config/config.js";

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
  assets           list hosts, ports, protocols and Modbus devices seen
  extract          list files seen in SMB traffic
  config check F   validate an agent configuration file
  modbus identify  ask one Modbus device for its identification (FC 43/14)
  replay FILE...   replay pcap/pcapng files through the decoder and the models
  correlator       subscribe to gateways' alerts, store them, build incidents
  report           print incident reports from the correlator's store
  search QUERY     search the correlator's alerts and records (docs/search.md)
  demo [FILE...]   run broker, correlator and a replay locally, print the result
  models list      list the detection models; "models show ID" explains one
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
`;

export const REPLAY_HELP = `Usage: fieldsense replay FILE... [options]

Replays pcap or pcapng files through the decoder and the detection models.
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
  --speed X         pace the replay at X times the captured rate: 1 is real
                    time, 2 twice as fast, 0 as fast as possible (default 0)
  -h, --help        show this help

On a terminal, stderr shows a progress bar with the rate (MB/s) and the time left.
When stdout is closed early (replay ... | head), the replay stops with exit code 141.
`;

export const CORRELATOR_HELP = `Usage: fieldsense correlator --broker URL [--db FILE] [--reports DIR] [--window-minutes N]
                            [--console PORT [--console-host HOST] [--console-login]]
       fieldsense correlator --hash-password

Subscribes to fieldsense/v1/+/+/alerts and .../records, validates and stores
alerts and records in SQLite, groups alerts into incidents and writes one
report per incident (Markdown and HTML). Runs until SIGINT or SIGTERM. Logs go
to stderr.

Options:
  --broker URL          MQTT broker to subscribe to, e.g. mqtt://127.0.0.1:1883
  --db FILE             SQLite store (default: ${"$"}FIELDSENSE_DATA_DIR/correlator.db,
                        or .fieldsense/correlator.db)
  --reports DIR         folder for incident-<id>.md and .html (default: reports/
                        beside the store)
  --window-minutes N    alerts sharing a host within N minutes of packet time
                        join one incident (default 60)
  --console PORT        serve the web console on this TCP port (0 picks a free
                        one); see docs/console.md
  --console-host HOST   address the console binds to (default 127.0.0.1); any
                        address beyond loopback needs a password hash
  --console-login       ask for the password on loopback too
  --hash-password       read a password from stdin, print its hash and exit
  -h, --help            show this help

Environment:
  FIELDSENSE_CONSOLE_PASSWORD_HASH   the console password's hash, from
                        --hash-password; sessions last 8 hours
`;

export const REPORT_HELP = `Usage: fieldsense report [--db FILE] [--incident ID] [--html]

Prints incident reports (Markdown) from the correlator's store, highest score first.

Options:
  --html           print one HTML page instead of Markdown
  --db FILE        SQLite store (default: ${"$"}FIELDSENSE_DATA_DIR/correlator.db,
                   or .fieldsense/correlator.db)
  --incident ID    print only this incident
  -h, --help       show this help
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

An invalid query exits with code 2 and a message that points at the bad token.
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
`;

const SOCKET_HELP = `  --socket PATH    control socket of the agent (default: FIELDSENSE_SOCKET,
                   else control.socket of --config, else ${DEFAULT_CONTROL_SOCKET})
  --config FILE    read the socket path from this agent configuration file`;

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
`;

export const STATUS_HELP = `Usage: fieldsense status [--json] [--socket PATH]

Shows the running agent's state: capture interface and filter, packets and
packets per second, libpcap drops, broker link with messages published and
the outbox (messages not yet acknowledged), records and alerts, models, and
baseline snapshots.

Options:
  --json           print the status as one JSON object
${SOCKET_HELP}
  -h, --help       show this help
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
${SOCKET_HELP}
  -h, --help       show this help
`;

export const ASSETS_HELP = `Usage: fieldsense assets [--json] [--socket PATH]

Lists the hosts the running agent has seen in protocol records: the ports each
host answered on, the protocols decoded there, and for Modbus the role
(master or device), the unit ids and the function codes.

Options:
  --json           print the assets as a JSON array
${SOCKET_HELP}
  -h, --help       show this help
`;

export const EXTRACT_HELP = `Usage: fieldsense extract [--json] [--socket PATH]

Lists the files the running agent has seen opened, read or written over SMB
(not named pipes): server, share, path, client, size, bytes read and written.
The agent keeps protocol records, not file contents, so the list says which
files moved; it does not write their bytes.

Options:
  --json           print the files as a JSON array
${SOCKET_HELP}
  -h, --help       show this help
`;

export const MODBUS_HELP = `Usage: fieldsense modbus identify HOST[:PORT] [options]

Asks one Modbus/TCP device for its identification (vendor, product code,
revision, and more at higher levels) with Read Device Identification,
function code 43 / MEI type 14. This is the only command that sends to a
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
  --json             print the identification as one JSON object
  -h, --help         show this help
`;

export const CONFIG_HELP = `Usage: fieldsense config check FILE [--json]

Validates an agent configuration file against its JSON Schema and the rules
between keys, and resolves \${NAME} references to environment variables.
An error names the file, the line, the key and what is allowed. Exit code 0
when valid, 1 when not.

Options:
  --json           print {"valid": ..., "config" or "error": ...} as JSON
  -h, --help       show this help
`;

export const MODELS_HELP = `Usage: fieldsense models list [--models DIR] [--json]
       fieldsense models show ID [--models DIR] [--json]

Lists the detection models, or explains one in words: its logic, the
conditions it checks, its frequency, its scorer, how the baselines raise or
lower its score, and its ATT&CK technique ids. An invalid model file is
reported with its file, line and key, and the exit code is 1.

Options:
  --models DIR      folder of model files (default: the models shipped with the package)
  --json            print JSON instead of text (one object per line for list)
`;
