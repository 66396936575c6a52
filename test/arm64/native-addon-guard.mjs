// Preloaded with `node --import` into the compared replay runs. Loading any
// native add-on (a .node file) raises an error naming it, and so does
// importing a package that exists only for its add-on (better-sqlite3,
// node-pcap), through the resolve hook in native-package-hooks.mjs. Those
// add-ons are x86 builds on this machine, so the replay path must run
// without them, natively as well as under arm64 emulation.
import { register } from "node:module";

process.dlopen = function rejectNativeAddon(_module, filename) {
  throw new Error(
    `native add-on ${filename} loaded by the replay path; ` +
    "the arm64 gateway build runs only JavaScript and core.wasm, so import the module that needs it lazily",
  );
};

register("./native-package-hooks.mjs", import.meta.url);
