// HTML escaping for the console. Every value that reaches a page goes through
// escapeHtml, either directly or as an interpolation of the `html` template,
// because alerts carry strings an attacker wrote on the wire.

// Escapes text for element content and for quoted attribute values.
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

// Markup that is already safe: produced by `html`, or by a renderer that
// escapes its own input (the report and the graph).
export class SafeHtml {
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }
}

export function raw(text: string): SafeHtml {
  return new SafeHtml(text);
}

type Interpolation = string | number | boolean | undefined | null | SafeHtml | Interpolation[];

// A template tag that escapes every interpolated value except SafeHtml;
// arrays are joined without separators and undefined or null print nothing.
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0];
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1];
  });
  return new SafeHtml(out);
}

function render(value: Interpolation): string {
  if (value === undefined || value === null) return "";
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}
