// Help text of every command, kept apart from the commands so that
// `fieldsense --help` loads neither the core nor the broker.
import { DEFAULT_SITE } from "../config/config.js";

export const MAIN_HELP = `Usage: fieldsense COMMAND [options]

Passive threat detection for plant networks.

Commands:
  replay FILE...   replay pcap/pcapng files through the decoder and the models
  correlator       subscribe to gateways' alerts, store them, build incidents
  report           print incident reports from the correlator's store
  demo [FILE...]   run broker, correlator and a replay locally, print the result
  help [COMMAND]   show help for a command

Run "fieldsense COMMAND --help" for the options of a command.
`;

export const REPLAY_HELP = `Usage: fieldsense replay FILE... [options]

Replays pcap or pcapng files through the decoder and the detection models.
Alerts are printed for people on stdout; a summary (packets, records, alerts,
anomalies) goes to stderr. A file that cannot be read is reported and the
other files still run; the exit code is then 1.

Options:
  --json            print alerts as NDJSON (one JSON object per line, type "alert")
  --records         print protocol records as NDJSON; with --json, alerts and
                    records share the stream, told apart by "type"
  --broker URL      also publish alerts and selected records to this MQTT broker
                    (mqtt://host:port), QoS 1
  --site S          site name in alerts and topics (default "${DEFAULT_SITE}")
  --gateway G       gateway name in alerts and topics (default: the host name)
  --models DIR      folder of model files (default: the package's models/)
  -h, --help        show this help
`;

export const CORRELATOR_HELP = `Usage: fieldsense correlator --broker URL [--db FILE] [--reports DIR] [--window-minutes N]

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
  -h, --help            show this help
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

export const DEMO_HELP = `Usage: fieldsense demo [FILE...] [--data DIR] [--models DIR]

Runs the whole chain locally: starts an MQTT broker (aedes) on 127.0.0.1 on a
free port, starts the correlator, replays the capture files (default: the
project's sample plant capture) publishing alerts and records, waits until the
correlator has stored every alert, prints the alerts and the incident reports,
and stops everything. Nothing listens beyond the loopback interface.

Options:
  --data DIR     keep the store (correlator.db) and reports in DIR; by default a
                 temporary folder is used and removed at the end
  --models DIR   folder of model files (default: the package's models/)
  --site S       site name (default "demo")
  --gateway G    gateway name (default "gateway-1")
  -h, --help     show this help
`;
