// SMB1 and SMB2 field ids (200-299) and anomaly ids (200-299).
// The JSON names returned here appear in records and alerts; see protocols/fields.ts.

export namespace SmbField {
  // Example: @inline export const FUNCTION_CODE: u16 = 200;
}

export function smbFieldName(id: u16): string {
  switch (id) {
  }
  return "";
}

// Anomalies are named after what was observed, prefixed with the protocol:
// "smb.length_mismatch", never a verdict.
export namespace SmbAnomaly {
}

export function smbAnomalyName(id: u16): string {
  switch (id) {
  }
  return "";
}
