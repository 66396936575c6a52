// Writes build/field-types.json: the value types each field id can carry in
// a record, read from the core's sources. The model compiler checks every
// condition against it, so that `equals: "41"` on a numeric field is an error
// at load time instead of a condition that never holds.
//
// The core writes a field with one of the writers in
// wasm-core/assembly/events.ts (fieldU64, fieldText, ...), whose first
// argument is the field id. The id is a constant (ModbusField.UNIT_ID), or
// reaches the writer through a helper's parameter, a local variable or a
// function that returns one of several constants. This script follows those
// paths through the TypeScript syntax tree until nothing changes, and fails
// when a writer's id cannot be traced, so that a new kind of helper is
// noticed instead of leaving its fields unchecked.
//
// Usage: node scripts/field-types.mjs [OUT_FILE]   (default build/field-types.json)
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE_FOLDERS = ["protocols", "wasm-core/assembly"];

// Value types as the core numbers them (ValueType in protocols/fields.ts).
const WRITERS = {
  fieldU64: 1,
  fieldText: 2,
  fieldLiteral: 2,
  fieldUtf16le: 2,
  fieldBytes: 3,
  fieldBool: 4,
  fieldI64: 5,
};

// The DCE-RPC stub parser saves evidence entries (id, value) for the record
// of the response, which replayEvidence then writes with fieldU64 or
// fieldText. The entries are written here, so these count as writers.
const EVIDENCE_FILE = "protocols/dcerpc/stub.ts";
const EVIDENCE_WRITERS = { appendRange: 2, appendU64: 1 };
// appendJobTime stores its entry by hand, as "HH:MM:SS" text.
const EVIDENCE_CONSTANTS = [["DcerpcField.JOB_TIME", 2]];

// Functions that copy fields of one record into another without choosing
// the ids: they add no new (id, type) pair.
const COPIERS = new Set(["copyEvidence", "replayEvidence"]);

function sourceFiles() {
  const files = [];
  const walk = (folder) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) files.push(path);
    }
  };
  for (const folder of SOURCE_FOLDERS) walk(join(root, folder));
  return files.sort();
}

const parsed = sourceFiles().map((file) => ({
  file,
  source: ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true),
}));

// Integer constants: `export namespace ModbusField { export const UNIT_ID: u16 = 101; }`
// as "ModbusField.UNIT_ID", and top-level `const NAME = 12` as "NAME".
const constants = new Map();
// Functions by name; several files may use one name, so each name maps to a list.
const functions = new Map();

function integerOf(node) {
  if (!node) return undefined;
  if (ts.isNumericLiteral(node)) return Number(node.text);
  if (ts.isAsExpression(node) || ts.isParenthesizedExpression(node) || ts.isTypeAssertionExpression(node)) return integerOf(node.expression);
  return undefined;
}

function collectDeclarations(node, namespace) {
  if (ts.isModuleDeclaration(node) && node.body && ts.isModuleBlock(node.body)) {
    for (const statement of node.body.statements) collectDeclarations(statement, node.name.text);
    return;
  }
  if (ts.isVariableStatement(node)) {
    for (const declaration of node.declarationList.declarations) {
      const value = integerOf(declaration.initializer);
      if (value !== undefined && ts.isIdentifier(declaration.name)) {
        constants.set(namespace ? `${namespace}.${declaration.name.text}` : declaration.name.text, value);
      }
    }
    return;
  }
  if (ts.isFunctionDeclaration(node) && node.name && node.body) {
    const list = functions.get(node.name.text) ?? [];
    list.push(node);
    functions.set(node.name.text, list);
  }
}
for (const { source } of parsed) for (const statement of source.statements) collectDeclarations(statement, undefined);

function enclosingFunction(node) {
  for (let n = node.parent; n; n = n.parent) {
    if (ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isArrowFunction(n) || ts.isMethodDeclaration(n)) return n;
  }
  return undefined;
}

function visit(node, callback) {
  callback(node);
  ts.forEachChild(node, (child) => visit(child, callback));
}

// Parameter slots that carry a field id to a writer: "function/index" -> value types.
const idParameters = new Map();
// Call sites whose id could not be traced, reported at the end.
let untraced = [];

// The field ids `expression` can evaluate to, or undefined when it cannot be
// traced. `parameterUse` is called when the id comes from a parameter of the
// enclosing function, so that its callers are followed instead.
function idsOf(expression, parameterUse, seen = new Set()) {
  if (seen.has(expression)) return new Set();
  seen.add(expression);
  const value = integerOf(expression);
  if (value !== undefined) return new Set([value]);
  if (ts.isParenthesizedExpression(expression) || ts.isAsExpression(expression) || ts.isTypeAssertionExpression(expression)) {
    return idsOf(expression.expression, parameterUse, seen);
  }
  if (ts.isPropertyAccessExpression(expression) && ts.isIdentifier(expression.expression)) {
    const constant = constants.get(`${expression.expression.text}.${expression.name.text}`);
    return constant !== undefined ? new Set([constant]) : undefined;
  }
  if (ts.isArrayLiteralExpression(expression)) {
    return expression.elements.reduce((all, element) => union(all, idsOf(element, parameterUse, seen)), new Set());
  }
  if (ts.isElementAccessExpression(expression)) return idsOf(expression.expression, parameterUse, seen);
  if (ts.isCallExpression(expression) && ts.isIdentifier(expression.expression) && expression.expression.text === "unchecked") {
    return idsOf(expression.arguments[0], parameterUse, seen);
  }
  if (ts.isConditionalExpression(expression)) {
    return union(idsOf(expression.whenTrue, parameterUse, seen), idsOf(expression.whenFalse, parameterUse, seen));
  }
  if (ts.isCallExpression(expression) && ts.isIdentifier(expression.expression)) {
    const candidates = functions.get(expression.expression.text);
    if (!candidates) return undefined;
    let result = new Set();
    for (const fn of candidates) {
      visit(fn.body, (n) => {
        if (result && ts.isReturnStatement(n) && n.expression && enclosingFunction(n) === fn) {
          const ids = idsOf(n.expression, () => undefined, seen);
          result = ids ? union(result, ids) : undefined;
        }
      });
    }
    return result;
  }
  if (ts.isIdentifier(expression)) {
    const constant = constants.get(expression.text);
    const fn = enclosingFunction(expression);
    if (fn) {
      const index = fn.parameters.findIndex((p) => ts.isIdentifier(p.name) && p.name.text === expression.text);
      if (index >= 0) return parameterUse(fn, index);
      // A local variable: every value it is given.
      let result = new Set();
      let found = false;
      visit(fn.body, (n) => {
        if (!result) return;
        let assigned;
        if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.name.text === expression.text) assigned = n.initializer;
        if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.EqualsToken && ts.isIdentifier(n.left) && n.left.text === expression.text) assigned = n.right;
        if (!assigned) return;
        found = true;
        const ids = idsOf(assigned, parameterUse, seen);
        result = ids ? union(result, ids) : undefined;
      });
      if (found) return result;
    }
    return constant !== undefined ? new Set([constant]) : undefined;
  }
  return undefined;
}

function union(a, b) {
  if (!a || !b) return undefined;
  return new Set([...a, ...b]);
}

const types = new Map(); // field id -> Set of value types
function addType(ids, type) {
  for (const id of ids) {
    if (id === 0) continue; // "no field": writers are not called with it
    const set = types.get(id) ?? new Set();
    set.add(type);
    types.set(id, set);
  }
}

function where(node) {
  const source = node.getSourceFile();
  const { line } = source.getLineAndCharacterOfPosition(node.getStart());
  return `${relative(root, source.fileName)}:${line + 1}`;
}

// Follows `callee`'s parameter `index` to the ids its callers pass, as `type`.
function traceParameter(calleeName, index, type, pending) {
  const key = `${calleeName}/${index}/${type}`;
  if (idParameters.has(key)) return;
  idParameters.set(key, true);
  pending.push({ calleeName, index, type });
}

// Every call of a writer, then every call of a helper that passes its
// parameter to a writer, until no new helper turns up.
const pending = [];
for (const { source } of parsed) {
  visit(source, (node) => {
    if (!ts.isCallExpression(node) || !ts.isIdentifier(node.expression)) return;
    const name = node.expression.text;
    const type = WRITERS[name] ?? (relative(root, source.fileName) === EVIDENCE_FILE ? EVIDENCE_WRITERS[name] : undefined);
    if (type === undefined || node.arguments.length === 0) return;
    const fn = enclosingFunction(node);
    if (fn && ts.isFunctionDeclaration(fn) && fn.name && COPIERS.has(fn.name.text)) return;
    const ids = idsOf(node.arguments[0], (callee, index) => {
      if (!ts.isFunctionDeclaration(callee) || !callee.name) return undefined;
      traceParameter(callee.name.text, index, type, pending);
      return new Set();
    });
    if (ids) addType(ids, type);
    else untraced.push(`${where(node)}: ${node.getText().slice(0, 80)}`);
  });
}
while (pending.length > 0) {
  const { calleeName, index, type } = pending.shift();
  for (const { source } of parsed) {
    visit(source, (node) => {
      if (!ts.isCallExpression(node) || !ts.isIdentifier(node.expression) || node.expression.text !== calleeName) return;
      const argument = node.arguments[index];
      if (!argument) return; // a default parameter value is traced where it is declared
      const ids = idsOf(argument, (callee, i) => {
        if (!ts.isFunctionDeclaration(callee) || !callee.name) return undefined;
        traceParameter(callee.name.text, i, type, pending);
        return new Set();
      });
      if (ids) addType(ids, type);
      else untraced.push(`${where(node)}: ${node.getText().slice(0, 80)}`);
    });
  }
  // Default values of the parameter.
  for (const fn of functions.get(calleeName) ?? []) {
    const initializer = fn.parameters[index]?.initializer;
    const value = initializer ? idsOf(initializer, () => undefined) : undefined;
    if (value) addType(value, type);
  }
}

for (const [name, type] of EVIDENCE_CONSTANTS) {
  const id = constants.get(name);
  if (id === undefined) untraced.push(`${EVIDENCE_FILE}: the constant ${name} is gone; update EVIDENCE_CONSTANTS in scripts/field-types.mjs`);
  else addType([id], type);
}

if (untraced.length > 0) {
  console.error(`field-types: cannot trace the field id of ${untraced.length} writer call(s); give the id as a constant, a parameter or a local variable set from constants:`);
  for (const line of [...new Set(untraced)]) console.error(`  ${line}`);
  process.exit(1);
}

const out = resolve(root, process.argv[2] ?? "build/field-types.json");
const fields = {};
for (const id of [...types.keys()].sort((a, b) => a - b)) fields[id] = [...types.get(id)].sort();
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ version: 1, valueTypes: { 1: "u64", 2: "text", 3: "bytes", 4: "bool", 5: "i64" }, fields }, null, 1)}\n`);
console.log(`field-types: ${types.size} field ids -> ${relative(root, out)}`);
