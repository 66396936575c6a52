// Module resolve hook registered by native-addon-guard.mjs: resolving
// better-sqlite3 or node-pcap (package "pcap") raises an error that names
// the importing module. It checks ESM imports only, because CommonJS
// require() does not pass through resolve hooks in Node 20. The dlopen guard
// in native-addon-guard.mjs still rejects the add-on that such a require()
// would load.
const NATIVE_PACKAGES = ["better-sqlite3", "pcap"];

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  const nativePackage = NATIVE_PACKAGES.find((name) => result.url.includes(`/node_modules/${name}/`));
  if (nativePackage) {
    throw new Error(
      `${context.parentURL ?? "the entry point"} imports "${specifier}" (package ${nativePackage}, a native add-on) ` +
      "on the replay path; import it lazily in the command that needs it",
    );
  }
  return result;
}
