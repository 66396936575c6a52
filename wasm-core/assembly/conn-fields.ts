// Fields of the connection-start record (RecordType.CONN), ids 1150-1199.

export namespace ConnField {
  // True when the connection was seen from its SYN, false when the core
  // picked it up midstream (its first packet carried data).
  @inline export const SYN_SEEN: u16 = 1150;
}

export function connFieldName(id: u16): string {
  switch (id) {
    case ConnField.SYN_SEEN: return "syn_seen";
  }
  return "";
}
