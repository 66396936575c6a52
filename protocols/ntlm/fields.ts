// NTLMSSP field ids (400-449) and anomaly ids (400-449).
// The JSON names returned here appear in records and alerts; see protocols/fields.ts.

export namespace NtlmField {
  // Example: @inline export const FUNCTION_CODE: u16 = 400;
}

export function ntlmFieldName(id: u16): string {
  switch (id) {
  }
  return "";
}

// Anomalies are named after what was observed, prefixed with the protocol:
// "ntlm.length_mismatch", never a verdict.
export namespace NtlmAnomaly {
}

export function ntlmAnomalyName(id: u16): string {
  switch (id) {
  }
  return "";
}
