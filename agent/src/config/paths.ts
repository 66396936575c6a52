// Locates files shipped with the package (schemas, the demo capture) from both
// the TypeScript sources and the compiled dist/ tree, which sit at different
// depths below the package root.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cachedRoot: string | undefined;

// Returns the folder of the fieldsense package.json above this module.
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(folder, "package.json");
    if (existsSync(candidate)) {
      const manifest = JSON.parse(readFileSync(candidate, "utf8")) as { name?: string };
      if (manifest.name === "fieldsense") {
        cachedRoot = folder;
        return folder;
      }
    }
    const parent = dirname(folder);
    if (parent === folder) {
      throw new Error(`package root not found above ${fileURLToPath(import.meta.url)}: no package.json named "fieldsense"; reinstall the package`);
    }
    folder = parent;
  }
}

export function schemaPath(name: "alert" | "record"): string {
  return join(packageRoot(), "schemas", `${name}.schema.json`);
}

// The capture that `fieldsense demo` replays when no file is given; built by
// test/fixtures/demo/make-sample.ts.
export function demoCapturePath(): string {
  return join(packageRoot(), "test", "fixtures", "demo", "plant-scene.pcap");
}
