// JSON Schema (draft 2020-12) of the agent's YAML configuration file. Every
// key is optional: agent-config.ts fills the defaults, which are sized for a
// gateway with 1 GB of memory.

const topicLevel = { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$" };
const positiveInteger = (maximum: number) => ({ type: "integer", minimum: 1, maximum });

export const AGENT_CONFIG_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://fieldsense.example/schemas/agent-config.schema.json",
  title: "Fieldsense agent configuration",
  type: "object",
  additionalProperties: false,
  properties: {
    site: topicLevel,
    gateway: topicLevel,
    capture: {
      type: "object",
      additionalProperties: false,
      properties: {
        interface: { type: "string", minLength: 1, maxLength: 64 },
        filter: { type: "string", maxLength: 4096 },
        snap_length: { type: "integer", minimum: 64, maximum: 262144 },
        promiscuous: { type: "boolean" },
        buffer_bytes: { type: "integer", minimum: 65536, maximum: 1073741824 },
        batch_bytes: { type: "integer", minimum: 65536, maximum: 4194304 },
        batch_interval_ms: { type: "integer", minimum: 10, maximum: 10000 },
      },
    },
    user: { type: "string", minLength: 1, maxLength: 64 },
    group: { type: "string", minLength: 1, maxLength: 64 },
    data_dir: { type: "string", minLength: 1 },
    models_dir: { type: "string", minLength: 1 },
    profiles: { type: "array", minItems: 1, items: { type: "string", minLength: 1 } },
    identify: {
      type: "object",
      additionalProperties: false,
      required: ["hosts"],
      properties: {
        // IPv4 address with an optional port and unit id: 10.0.0.5, 10.0.0.5:502/1.
        hosts: { type: "array", minItems: 1, maxItems: 256, uniqueItems: true, items: { type: "string", pattern: "^[0-9]{1,3}(\\.[0-9]{1,3}){3}(:[0-9]{1,5})?(/[0-9]{1,3})?$" } },
        unit_id: { type: "integer", minimum: 0, maximum: 255 },
        interval_h: { type: "integer", minimum: 1, maximum: 8760 },
      },
    },
    log_level: { enum: ["trace", "debug", "info", "warn", "error", "fatal", "silent"] },
    broker: {
      type: "object",
      additionalProperties: false,
      properties: {
        url: { type: "string", minLength: 1 },
        username: { type: "string", minLength: 1 },
        password_env: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
        password_file: { type: "string", minLength: 1 },
        ca_file: { type: "string", minLength: 1 },
        cert_file: { type: "string", minLength: 1 },
        key_file: { type: "string", minLength: 1 },
        allow_plaintext_credentials: { type: "boolean" },
        outbox_max_bytes: { type: "integer", minimum: 65536, maximum: 1073741824 },
      },
    },
    control: {
      type: "object",
      additionalProperties: false,
      properties: {
        socket: { type: "string", minLength: 1, maxLength: 107 },
      },
    },
    store: {
      type: "object",
      additionalProperties: false,
      properties: {
        alerts: positiveInteger(1_000_000),
        assets: positiveInteger(1_000_000),
        files: positiveInteger(1_000_000),
      },
    },
    snapshot_interval_s: { type: "integer", minimum: 10, maximum: 86400 },
    baselines: {
      type: "object",
      additionalProperties: false,
      properties: {
        // IANA name, checked against Node's time zone database at install.
        timezone: { type: "string", minLength: 1 },
      },
    },
    ring: {
      type: "object",
      additionalProperties: false,
      properties: {
        enabled: { type: "boolean" },
        dir: { type: "string", minLength: 1 },
        max_bytes: { type: "integer", minimum: 262144, maximum: 2 ** 40 },
        max_age_s: positiveInteger(365 * 86400),
        segment_bytes: { type: "integer", minimum: 65536, maximum: 1 << 30 },
        truncate: {
          type: "array",
          maxItems: 256,
          items: {
            type: "object",
            additionalProperties: false,
            minProperties: 1,
            properties: {
              host: { type: "string", minLength: 1, maxLength: 64 },
              port: { type: "integer", minimum: 0, maximum: 65535 },
            },
          },
        },
      },
    },
    pcap_requests: {
      type: "object",
      additionalProperties: false,
      properties: {
        requesters: { type: "array", maxItems: 64, uniqueItems: true, items: topicLevel },
        max_bytes: { type: "integer", minimum: 65536, maximum: 1 << 30 },
        chunk_bytes: { type: "integer", minimum: 4096, maximum: 16 << 20 },
      },
    },
    core: {
      type: "object",
      additionalProperties: false,
      properties: {
        max_flows: positiveInteger(1 << 24),
        app_state_slots: positiveInteger(1 << 24),
        stream_buffer_bytes: { type: "integer", minimum: 4096, maximum: 64 << 20 },
        reassembly_bytes_total: { type: "integer", minimum: 4096, maximum: 1 << 30 },
        event_buffer_bytes: { type: "integer", minimum: 131072, maximum: 256 << 20 },
        flow_idle_timeout_s: positiveInteger(0xffffffff),
      },
    },
  },
} as const;
