// Prints one JSON line that the same-output test compares between the native
// and the emulated Node before it runs any replay. The line contains the
// processor architecture, the Node version, the SHA-256 of build/core.wasm
// with the imports and exports the engine compiled from it, and the bits of
// the NaN that this processor's WebAssembly f64.div returns for 0 / 0.
// Plain JavaScript, so that the emulated Node runs it without a TypeScript
// loader (tsx relies on esbuild, a native x86 binary here).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

const wasmPath = process.argv[2];
if (!wasmPath) {
  process.stderr.write("usage: node probe.mjs CORE_WASM (for example build/core.wasm)\n");
  process.exit(2);
}

// (module (func (export "divide") (param f64 f64) (result i64)
//   local.get 0  local.get 1  f64.div  i64.reinterpret_f64))
// The operands are parameters so that the engine cannot fold the division
// into a constant at compile time.
const DIVIDE_MODULE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,             // magic, version 1
  0x01, 0x07, 0x01, 0x60, 0x02, 0x7c, 0x7c, 0x01, 0x7e,       // type: (f64 f64) -> i64
  0x03, 0x02, 0x01, 0x00,                                     // function 0 has type 0
  0x07, 0x0a, 0x01, 0x06, 0x64, 0x69, 0x76, 0x69, 0x64, 0x65, // export "divide"
  0x00, 0x00,                                                 //   function 0
  0x0a, 0x0a, 0x01, 0x08, 0x00,                               // code: one body, no locals
  0x20, 0x00, 0x20, 0x01, 0xa3, 0xbd, 0x0b,                   // get 0, get 1, div, reinterpret, end
]);

const wasm = readFileSync(wasmPath);
const core = await WebAssembly.compile(wasm);
const divide = (await WebAssembly.instantiate(DIVIDE_MODULE)).instance.exports.divide;
const nanBits = BigInt.asUintN(64, divide(0, 0)).toString(16).padStart(16, "0");

process.stdout.write(JSON.stringify({
  arch: process.arch,
  node: process.versions.node,
  coreSha256: createHash("sha256").update(wasm).digest("hex"),
  coreImports: WebAssembly.Module.imports(core).map((entry) => `${entry.module}.${entry.name}:${entry.kind}`),
  coreExports: WebAssembly.Module.exports(core).map((entry) => `${entry.name}:${entry.kind}`),
  nanBits,
}) + "\n");
