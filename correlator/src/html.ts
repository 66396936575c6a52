// HTML rendering of an incident report. It converts the Markdown subset that
// report.ts writes (headings, bullet lists, pipe tables, paragraphs, code
// spans) and is no general Markdown converter.
import { unescapeMarkdown } from "./markdown.js";

export function reportToHtml(markdown: string, title: string): string {
  const body: string[] = [];
  const lines = markdown.split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const heading = /^(#{1,3}) (.*)$/.exec(line);
    if (heading) {
      const level = heading[1].length;
      body.push(`<h${level}>${inline(heading[2])}</h${level}>`);
      i++;
    } else if (line.startsWith("- ")) {
      body.push("<ul>");
      while (i < lines.length && lines[i].startsWith("- ")) body.push(`<li>${inline(lines[i++].slice(2))}</li>`);
      body.push("</ul>");
    } else if (line.startsWith("|")) {
      const rows: string[] = [];
      while (i < lines.length && lines[i].startsWith("|")) rows.push(lines[i++]);
      body.push(table(rows));
    } else if (line.trim() === "" || line === "---") {
      if (line === "---") body.push("<hr>");
      i++;
    } else {
      body.push(`<p>${inline(line)}</p>`);
      i++;
    }
  }
  return [
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    "<style>body{font-family:sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem}" +
      "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}" +
      "code{background:#f2f2f2;padding:0 .2rem}</style>",
    "</head><body>",
    ...body,
    "</body></html>",
    "",
  ].join("\n");
}

// A pipe table: header row, separator row, then body rows. Cells split on
// pipes not preceded by a backslash.
function table(rows: string[]): string {
  const cells = (row: string) => row.replace(/^\||\|$/g, "").split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, "|"));
  const [header, , ...bodyRows] = rows;
  const head = cells(header).map((cell) => `<th>${inline(cell)}</th>`).join("");
  const body = bodyRows.map((row) => `<tr>${cells(row).map((cell) => `<td>${inline(cell)}</td>`).join("")}</tr>`);
  return `<table><thead><tr>${head}</tr></thead><tbody>${body.join("")}</tbody></table>`;
}

// Escapes text for HTML, removes the Markdown escapes of markdownText and
// turns `code spans` into <code> elements.
function inline(text: string): string {
  return text.split(/(`[^`]*`)/).map((part) => {
    if (part.startsWith("`") && part.endsWith("`") && part.length >= 2) return `<code>${escapeHtml(part.slice(1, -1))}</code>`;
    return escapeHtml(unescapeMarkdown(part));
  }).join("");
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
