// Names of LINKTYPE_* values (tcpdump.org link-layer header type registry)
// for messages. The readers pass every link type through unchanged, and the
// core decides which ones it decodes.

interface LinkTypeName { constant: string; description: string }

const LINK_TYPE_NAMES: ReadonlyMap<number, LinkTypeName> = new Map([
  [0, { constant: "LINKTYPE_NULL", description: "BSD loopback" }],
  [1, { constant: "LINKTYPE_ETHERNET", description: "Ethernet" }],
  [6, { constant: "LINKTYPE_IEEE802_5", description: "Token Ring" }],
  [9, { constant: "LINKTYPE_PPP", description: "PPP" }],
  // DLT_RAW is 12 on most systems and 14 on OpenBSD. Old files carry these values.
  [12, { constant: "DLT_RAW", description: "raw IP (BSD value)" }],
  [14, { constant: "DLT_RAW", description: "raw IP (OpenBSD value)" }],
  [101, { constant: "LINKTYPE_RAW", description: "raw IP" }],
  [105, { constant: "LINKTYPE_IEEE802_11", description: "IEEE 802.11 wireless" }],
  [108, { constant: "LINKTYPE_LOOP", description: "OpenBSD loopback" }],
  [113, { constant: "LINKTYPE_LINUX_SLL", description: "Linux cooked capture" }],
  [127, { constant: "LINKTYPE_IEEE802_11_RADIOTAP", description: "IEEE 802.11 with radiotap header" }],
  [147, { constant: "LINKTYPE_USER0", description: "user-defined" }],
  [195, { constant: "LINKTYPE_IEEE802_15_4_WITHFCS", description: "IEEE 802.15.4" }],
  [220, { constant: "LINKTYPE_USB_LINUX_MMAPPED", description: "Linux USB" }],
  [228, { constant: "LINKTYPE_IPV4", description: "raw IPv4" }],
  [229, { constant: "LINKTYPE_IPV6", description: "raw IPv6" }],
  [276, { constant: "LINKTYPE_LINUX_SLL2", description: "Linux cooked capture v2" }],
]);

// Link types the Fieldsense core is built to decode.
export const SUPPORTED_LINK_TYPES: ReadonlySet<number> = new Set([0, 1, 12, 14, 101, 108, 113, 228, 229, 276]);

// Describes a link type for people: "Ethernet (LINKTYPE_ETHERNET, 1)".
export function describeLinkType(linkType: number): string {
  const name = LINK_TYPE_NAMES.get(linkType);
  const support = SUPPORTED_LINK_TYPES.has(linkType) ? "" : ", not decoded by Fieldsense";
  if (name) return `${name.description} (${name.constant}, ${linkType}${support})`;
  return `link type ${linkType} (not in this reader's table${support})`;
}
