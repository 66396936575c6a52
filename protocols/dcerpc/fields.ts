// DCE-RPC field ids (300-399) and anomaly ids (300-399).
// The JSON names returned here appear in records and alerts; see protocols/fields.ts.

export namespace DcerpcField {
  // Example: @inline export const FUNCTION_CODE: u16 = 300;
}

export function dcerpcFieldName(id: u16): string {
  switch (id) {
  }
  return "";
}

// Anomalies are named after what was observed, prefixed with the protocol:
// "dcerpc.length_mismatch", never a verdict.
export namespace DcerpcAnomaly {
}

export function dcerpcAnomalyName(id: u16): string {
  switch (id) {
  }
  return "";
}
