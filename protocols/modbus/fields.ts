// Modbus/TCP field ids (100-199) and anomaly ids (100-199).
// The JSON names returned here appear in records and alerts; see protocols/fields.ts.

export namespace ModbusField {
  // Example: @inline export const FUNCTION_CODE: u16 = 100;
}

export function modbusFieldName(id: u16): string {
  switch (id) {
  }
  return "";
}

// Anomalies are named after what was observed, prefixed with the protocol:
// "modbus.length_mismatch", never a verdict.
export namespace ModbusAnomaly {
}

export function modbusAnomalyName(id: u16): string {
  switch (id) {
  }
  return "";
}
