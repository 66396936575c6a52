// Text from alerts and records (names, accounts, evidence, file names) placed
// into the Markdown of an incident report. Such text comes from the network,
// so it must not add structure: no line breaks, no headings, no table cells,
// no links, no HTML. report.ts writes every such value through markdownText,
// and html.ts reads it back through unescapeMarkdown.

// Line breaks as CommonMark and HTML renderers treat them, plus the Unicode
// line and paragraph separators.
const LINE_BREAKS = /\r\n|[\r\n\v\f\u0085\u2028\u2029]/g;
// Characters that open or close Markdown and GFM constructs inside a line.
// Backticks are replaced rather than escaped, so that html.ts can find code
// spans by their backticks alone.
const MARKDOWN_SPECIAL = /[\\*_{}[\]<>#|~!]/g;
const ESCAPED_SPECIAL = /\\([\\*_{}[\]<>#|~!])/g;

// Returns `value` as one line of Markdown text that renders literally. Text
// with backslashes (DOMAIN\user, \\server\share) goes into a code span, where
// backslashes stay literal and readable. Only `|` is escaped there, because a
// GFM table splits cells on it even inside code spans.
export function markdownText(value: string): string {
  const flat = value.replace(LINE_BREAKS, " ").replace(/`/g, "'");
  if (flat.includes("\\")) return `\`${flat.replace(/\|/g, "\\|")}\``;
  return flat.replace(MARKDOWN_SPECIAL, (char) => `\\${char}`);
}

// Returns `value` (a model id, an account) as a code span outside tables,
// with line breaks and backticks replaced as in markdownText.
export function markdownCode(value: string): string {
  return `\`${value.replace(LINE_BREAKS, " ").replace(/`/g, "'")}\``;
}

// Removes the escapes markdownText adds, for text outside code spans.
export function unescapeMarkdown(text: string): string {
  return text.replace(ESCAPED_SPECIAL, "$1");
}

// Rewrites a report for a terminal: code spans lose their backticks and keep
// their text, and the escapes markdownText adds are removed elsewhere, so
// `seen\_before` prints as seen_before. Headings, list marks and table pipes
// stay, because they read well as plain text. The result is for display only:
// reports saved as .md files keep their Markdown.
export function markdownToPlainText(markdown: string): string {
  return markdown.split("\n").map(plainLine).join("\n");
}

function plainLine(line: string): string {
  // Odd parts are code span contents, because markdownText and markdownCode
  // replace every backtick inside a value.
  return line.split("`").map((part, index) => (index % 2 === 1 ? part.replace(/\\\|/g, "|") : unescapeMarkdown(part))).join("");
}
