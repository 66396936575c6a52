// Tokenizer and recursive-descent parser of the search language (grammar in
// docs/search.md). Every token and node keeps its column, so that an error
// can point at the token that made the query invalid.
import { resolveField, type FieldRef } from "./fields.js";

export type ComparisonOperator = ":" | "=" | "!=" | ">" | ">=" | "<" | "<=";

export type TokenKind = "term" | "phrase" | "operator" | "lparen" | "rparen" | "end";

export interface Token {
  kind: TokenKind;
  text: string;
  // 0-based offset of the first character in the query, and the length of
  // the token in the query (a phrase counts its quotes and escapes).
  start: number;
  length: number;
}

// A value on the right of a comparison, with the span of [start, end) in
// epoch milliseconds when it reads as a date or a date and time.
export interface Value {
  text: string;
  quoted: boolean;
  start: number;
  length: number;
  number?: number;
  span?: { startMs: number; endMs: number };
  // LIKE patterns that together match the addresses of an IPv4 CIDR block.
  addressPatterns?: string[];
}

export type Node =
  | { kind: "and"; left: Node; right: Node }
  | { kind: "or"; left: Node; right: Node }
  | { kind: "not"; operand: Node }
  | { kind: "word"; text: string; quoted: boolean; start: number }
  | { kind: "compare"; field: FieldRef; operator: ComparisonOperator; value: Value; start: number }
  | { kind: "range"; fromMs: number; toMs: number; start: number };

// Caps that keep one query from exhausting the parser's stack or the
// database's limits on expression depth and parameters (SQLite allows an
// expression tree 1000 levels deep by default).
export const MAX_QUERY_CHARS = 4000;
export const MAX_QUERY_TERMS = 100;
export const MAX_QUERY_NESTING = 32;

// The tokens that may start an expression, for the "expected ..." part of messages.
const EXPECTED_OPERAND = 'a word, a "quoted phrase", field:value, NOT, "(", "last 60d" or "from DATE to DATE"';

// An invalid query: the message, and the 0-based column and length of the bad token.
export class SearchSyntaxError extends Error {
  readonly code = "SEARCH_SYNTAX";

  constructor(readonly reason: string, readonly query: string, readonly column: number, readonly length = 1) {
    super(`invalid query at column ${column + 1}: ${reason}`);
    this.name = "SearchSyntaxError";
  }

  // The message, then the query and a caret line under the bad token.
  format(): string {
    const width = Math.max(1, this.length);
    return `${this.message}\n  ${this.query}\n  ${" ".repeat(this.column)}${"^".repeat(width)}`;
  }
}

// Characters that end a bare term outside a value. ':' '<' '>' '=' start
// comparison operators; '!' does so only before '='.
const TERM_STOP = /[\s()"]/;
const OPERATOR_START = /[:<>=]/;

export function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const c = query[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "(" || c === ")") {
      tokens.push({ kind: c === "(" ? "lparen" : "rparen", text: c, start: i, length: 1 });
      i++;
      continue;
    }
    if (c === '"') {
      const phrase = readPhrase(query, i);
      tokens.push(phrase);
      i += phrase.length;
      continue;
    }
    // A term right after an operator is a value, and values may contain ':'
    // and the other operator characters (times, IPv6 addresses, markup).
    const afterOperator = tokens.length > 0 && tokens[tokens.length - 1].kind === "operator";
    const operator = afterOperator ? undefined : readOperator(query, i);
    if (operator) {
      tokens.push({ kind: "operator", text: operator, start: i, length: operator.length });
      i += operator.length;
      continue;
    }
    let end = i;
    while (end < query.length && !TERM_STOP.test(query[end])) {
      if (!afterOperator && readOperator(query, end)) break;
      end++;
    }
    tokens.push({ kind: "term", text: query.slice(i, end), start: i, length: end - i });
    i = end;
  }
  tokens.push({ kind: "end", text: "", start: query.length, length: 1 });
  return tokens;
}

function readOperator(query: string, i: number): ComparisonOperator | undefined {
  const two = query.slice(i, i + 2);
  if (two === ">=" || two === "<=" || two === "!=") return two;
  if (OPERATOR_START.test(query[i])) return query[i] as ComparisonOperator;
  return undefined;
}

// Reads a "phrase" starting at the quote at `start`; \" and \\ are escapes.
function readPhrase(query: string, start: number): Token {
  let text = "";
  let i = start + 1;
  while (i < query.length) {
    const c = query[i];
    if (c === "\\" && (query[i + 1] === '"' || query[i + 1] === "\\")) {
      text += query[i + 1];
      i += 2;
      continue;
    }
    if (c === '"') return { kind: "phrase", text, start, length: i + 1 - start };
    text += c;
    i++;
  }
  throw new SearchSyntaxError('unterminated phrase: add the closing " or escape the quote as \\"', query, start, 1);
}

export interface ParseOptions {
  // The time that "last 12h" counts back from, in epoch milliseconds.
  nowMs?: number;
}

// Parses a query into a tree; throws SearchSyntaxError naming the bad token.
export function parseQuery(query: string, options: ParseOptions = {}): Node {
  if (query.length > MAX_QUERY_CHARS) {
    throw new SearchSyntaxError(`the query is ${query.length} characters long; the maximum is ${MAX_QUERY_CHARS}`, query.slice(0, 60), 0, 1);
  }
  return new Parser(query, tokenize(query), options.nowMs ?? Date.now()).parse();
}

class Parser {
  private index = 0;
  private terms = 0;
  private depth = 0;

  constructor(private readonly query: string, private readonly tokens: Token[], private readonly nowMs: number) {}

  parse(): Node {
    if (this.peek().kind === "end") throw this.error(`empty query: expected ${EXPECTED_OPERAND}`, this.peek());
    const node = this.orExpression();
    const next = this.peek();
    if (next.kind === "rparen") throw this.error('unexpected ")" with no matching "("; remove it or add a "(" before it', next);
    if (next.kind !== "end") throw this.error(`unexpected ${describe(next)}; expected AND, OR or the end of the query`, next);
    return node;
  }

  private orExpression(): Node {
    let left = this.andExpression();
    while (this.isKeyword(this.peek(), "OR")) {
      const operator = this.next();
      left = { kind: "or", left, right: this.andExpression(operator) };
    }
    return left;
  }

  // AND binds tighter than OR; two operands side by side are joined by AND.
  private andExpression(after?: Token): Node {
    let left = this.notExpression(after);
    for (;;) {
      const next = this.peek();
      if (this.isKeyword(next, "AND")) {
        this.next();
        left = { kind: "and", left, right: this.notExpression(next) };
      } else if (this.startsOperand(next)) {
        left = { kind: "and", left, right: this.notExpression() };
      } else {
        return left;
      }
    }
  }

  private notExpression(after?: Token): Node {
    const next = this.peek();
    if (this.isKeyword(next, "NOT")) {
      this.next();
      this.enter(next);
      const operand = this.notExpression(next);
      this.depth--;
      return { kind: "not", operand };
    }
    const token = this.peek();
    if (token.kind === "term" || token.kind === "phrase") {
      this.terms++;
      if (this.terms > MAX_QUERY_TERMS) throw this.error(`the query has more than ${MAX_QUERY_TERMS} terms; split it or narrow it with a field or a time range`, token);
    }
    return this.primary(after);
  }

  // Counts one level of parentheses or NOT.
  private enter(token: Token): void {
    this.depth++;
    if (this.depth > MAX_QUERY_NESTING) throw this.error(`parentheses and NOT nest more than ${MAX_QUERY_NESTING} levels deep here; simplify the query`, token);
  }

  // `after` is the keyword before this operand, named in the message when
  // the operand is missing.
  private primary(after?: Token): Node {
    const token = this.peek();
    const context = after ? ` after ${after.text.toUpperCase()}` : "";
    if (token.kind === "lparen") {
      this.next();
      this.enter(token);
      if (this.peek().kind === "rparen") throw this.error(`empty parentheses: expected ${EXPECTED_OPERAND} inside them`, this.peek());
      if (this.peek().kind === "end") throw this.error(`unexpected end of the query after "(": expected ${EXPECTED_OPERAND}, then ")"`, this.peek());
      const inner = this.orExpression();
      const close = this.peek();
      if (close.kind !== "rparen") {
        const found = close.kind === "end" ? "the end of the query" : describe(close);
        throw this.error(`expected ")" to close the "(" at column ${token.start + 1}, found ${found}`, close);
      }
      this.next();
      this.depth--;
      return inner;
    }
    if (token.kind === "phrase") {
      this.next();
      return { kind: "word", text: token.text, quoted: true, start: token.start };
    }
    if (token.kind === "term") {
      if (this.tokens[this.index + 1].kind === "operator") return this.comparison();
      if (this.isKeyword(token, "LAST")) return this.lastRange();
      if (this.isKeyword(token, "FROM")) return this.fromRange();
      if (this.isKeyword(token, "TO")) throw this.error('"to" without "from": write "from DATE to DATE", or quote "to" to search the word', token);
      if (this.isKeyword(token, "AND") || this.isKeyword(token, "OR")) {
        throw this.error(`unexpected ${token.text.toUpperCase()}${context}: expected ${EXPECTED_OPERAND}`, token);
      }
      this.next();
      return { kind: "word", text: token.text, quoted: false, start: token.start };
    }
    if (token.kind === "operator") {
      throw this.error(`expected a field name before "${token.text}", such as score${token.text === ":" ? ":" : token.text}70 or record.share:ADMIN$`, token);
    }
    if (token.kind === "rparen") throw this.error(`unexpected ")"${context}: expected ${EXPECTED_OPERAND}`, token);
    throw this.error(`unexpected end of the query${context}: expected ${EXPECTED_OPERAND}`, token);
  }

  private comparison(): Node {
    const name = this.next();
    const operator = this.next();
    const field = resolveField(name.text, (reason) => this.error(reason, name));
    const valueToken = this.peek();
    if (valueToken.kind !== "term" && valueToken.kind !== "phrase") {
      throw this.error(`expected a value after "${name.text}${operator.text}", such as ${field.example(operator.text)}`, valueToken);
    }
    this.next();
    const value: Value = { text: valueToken.text, quoted: valueToken.kind === "phrase", start: valueToken.start, length: valueToken.length };
    const op = operator.text as ComparisonOperator;
    if (field.type === "number") {
      const number = parseNumber(value.text);
      if (number === undefined) {
        throw this.error(`${field.name} compares numbers: "${value.text}" is not a number; for example ${field.example(op)}`, valueToken);
      }
      value.number = number;
    } else if (field.type === "time") {
      value.span = parseTimeSpan(value.text, (reason) => this.error(reason, valueToken));
    } else if (field.type === "address" && !value.quoted && value.text.includes("/")) {
      if (op !== ":" && op !== "=" && op !== "!=") throw this.error(`${field.name} takes ":", "=" or "!=" with a CIDR block, not "${op}"`, operator);
      value.addressPatterns = cidrPatterns(value.text, (reason) => this.error(reason, valueToken));
    } else {
      const number = parseNumber(value.text);
      if (number !== undefined) value.number = number;
      if (op !== ":" && op !== "=" && op !== "!=" && number === undefined && !field.json) {
        throw this.error(`${field.name} is text and takes ":", "=" or "!=", not "${op}"`, operator);
      }
    }
    if (value.quoted === false && /[*?]/.test(value.text) && op !== ":" && op !== "=" && op !== "!=") {
      throw this.error(`wildcards work with ":", "=" and "!=" only, not with "${op}"`, valueToken);
    }
    return { kind: "compare", field, operator: op, value, start: name.start };
  }

  // last N UNIT: from N units before now up to now, inclusive.
  private lastRange(): Node {
    const keyword = this.next();
    const amount = this.peek();
    const match = amount.kind === "term" ? /^(\d+)(s|m|h|d|w)$/.exec(amount.text) : null;
    if (!match) {
      const found = amount.kind === "end" ? "the end of the query" : `"${amount.text}"`;
      throw this.error(`expected a duration after "last", such as 60d, 12h, 30m, 45s or 2w; found ${found}`, amount);
    }
    this.next();
    const ms = Number(match[1]) * UNIT_MS[match[2]];
    return { kind: "range", fromMs: this.nowMs - ms, toMs: this.nowMs + 1, start: keyword.start };
  }

  // from DATE to DATE: from the start of the first to the end of the second.
  private fromRange(): Node {
    const keyword = this.next();
    const from = this.dateToken('"from"');
    const to = this.peek();
    if (!this.isKeyword(to, "TO")) throw this.error(`expected "to" after "from ${from.token.text}", as in from 2026-11-01 to 2026-11-03`, to);
    this.next();
    const until = this.dateToken('"to"');
    if (until.span.endMs <= from.span.startMs) {
      throw this.error(`the range ends (${until.token.text}) before it starts (${from.token.text}); swap the two dates`, until.token);
    }
    return { kind: "range", fromMs: from.span.startMs, toMs: until.span.endMs, start: keyword.start };
  }

  private dateToken(after: string): { token: Token; span: { startMs: number; endMs: number } } {
    const token = this.peek();
    if (token.kind !== "term") {
      const found = token.kind === "end" ? "the end of the query" : describe(token);
      throw this.error(`expected a date after ${after}, such as 2026-11-01 or 2026-11-01T08:00Z; found ${found}`, token);
    }
    this.next();
    return { token, span: parseTimeSpan(token.text, (reason) => this.error(reason, token)) };
  }

  private startsOperand(token: Token): boolean {
    if (token.kind === "lparen" || token.kind === "phrase") return true;
    return token.kind === "term" && !this.isKeyword(token, "AND") && !this.isKeyword(token, "OR");
  }

  private isKeyword(token: Token, keyword: string): boolean {
    return token.kind === "term" && token.text.toUpperCase() === keyword;
  }

  private peek(): Token {
    return this.tokens[this.index];
  }

  private next(): Token {
    return this.tokens[this.index++];
  }

  private error(reason: string, token: Token): SearchSyntaxError {
    return new SearchSyntaxError(reason, this.query, token.start, token.kind === "end" ? 1 : token.length);
  }
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

function describe(token: Token): string {
  if (token.kind === "phrase") return `phrase "${token.text}"`;
  if (token.kind === "end") return "the end of the query";
  return `"${token.text}"`;
}

function parseNumber(text: string): number | undefined {
  if (!/^-?\d+(\.\d+)?$/.test(text)) return undefined;
  return Number(text);
}

// Turns an IPv4 CIDR block into LIKE patterns over dotted addresses: whole
// octets become a prefix ending in ".%", and a prefix that splits an octet
// lists that octet's values, at most 128 of them (for /9, /17 and /25).
export function cidrPatterns(text: string, fail: (reason: string) => Error): string[] {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  const octets = match ? match.slice(1, 5).map(Number) : [];
  const prefix = match ? Number(match[5]) : -1;
  if (!match || octets.some((octet) => octet > 255) || prefix > 32) {
    throw fail(`"${text}" is not an IPv4 CIDR block; write an address and a prefix length from 0 to 32, such as 10.10.0.0/16 (IPv6 blocks are not supported)`);
  }
  const address = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  const hostBits = 2 ** (32 - prefix);
  const network = address - (address % hostBits);
  if (network !== address) {
    const fixed = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".");
    throw fail(`"${text}" has host bits set; write ${fixed}/${prefix}`);
  }
  if (prefix === 0) return ["%.%.%.%"];
  const whole = Math.floor(prefix / 8);
  const rest = prefix % 8;
  const lead = octets.slice(0, whole).join(".");
  if (rest === 0) return [whole === 4 ? lead : `${lead}.%`];
  const patterns: string[] = [];
  for (let value = octets[whole]; value < octets[whole] + 2 ** (8 - rest); value++) {
    const head = lead === "" ? String(value) : `${lead}.${value}`;
    patterns.push(whole === 3 ? head : `${head}.%`);
  }
  return patterns;
}

// Date and time forms, always UTC unless an offset is given. A value stands
// for the whole span of its precision: a day, a minute, a second or a
// millisecond.
const TIME_FORMS = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?(Z|[+-]\d{2}:\d{2})?$/;

export function parseTimeSpan(text: string, fail: (reason: string) => Error): { startMs: number; endMs: number } {
  const match = TIME_FORMS.exec(text);
  if (!match) throw fail(`"${text}" is not a date; write 2026-11-01, 2026-11-01T08:00 or 2026-11-01T08:00:00Z (UTC unless an offset is given)`);
  const [, year, month, day, hour, minute, second, fraction, zone] = match;
  const iso = `${year}-${month}-${day}T${hour ?? "00"}:${minute ?? "00"}:${second ?? "00"}${fraction ? fraction.slice(0, 4) : ""}${zone ?? "Z"}`;
  const startMs = Date.parse(iso);
  // Date.parse rolls 2026-02-30 over into March; a round trip catches it.
  const check = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (Number.isNaN(startMs) || check.getUTCMonth() !== Number(month) - 1 || check.getUTCDate() !== Number(day) || Number(hour ?? 0) > 23 || Number(minute ?? 0) > 59 || Number(second ?? 0) > 59) {
    throw fail(`"${text}" is not a valid date or time; check the month, day and time`);
  }
  let unit = 86_400_000;
  if (fraction) unit = 1;
  else if (second !== undefined) unit = 1000;
  else if (hour !== undefined) unit = 60_000;
  return { startMs, endMs: startMs + unit };
}
