// The cache of parsed model and profile files: a hit serves the stored
// specs, any change to a file misses it, and errors are never stored.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModelSet, ModelError } from "../../agent/src/core/models.js";
import { loadProfiles, packageProfilesDir } from "../../agent/src/profiles/profiles.js";
import { Engine, modelFolder, modelYaml } from "./engine.js";

const OPNUM_0 = "  - field: opnum\n    equals: 0";
const previousCacheDir = process.env.FIELDSENSE_CACHE_DIR;
let cacheDir = "";

test.before.each(() => {
  cacheDir = mkdtempSync(join(tmpdir(), "fieldsense-parse-cache-"));
  process.env.FIELDSENSE_CACHE_DIR = cacheDir;
});

test.after.each(() => {
  rmSync(cacheDir, { recursive: true, force: true });
  if (previousCacheDir === undefined) delete process.env.FIELDSENSE_CACHE_DIR;
  else process.env.FIELDSENSE_CACHE_DIR = previousCacheDir;
});

function onlyCacheFile(): string {
  const files = readdirSync(cacheDir).filter((name) => name.startsWith("models-"));
  assert.is(files.length, 1, `one models cache file in ${cacheDir}`);
  return join(cacheDir, files[0]);
}

// Rewrites the stored name of the first model, so that a load that returns
// the new name must have read the cache.
function renameStoredModel(file: string, name: string): void {
  const stored = JSON.parse(readFileSync(file, "utf8")) as { key: string; values: { name: string }[] };
  stored.values[0].name = name;
  writeFileSync(file, JSON.stringify(stored));
}

test("second load matches the first", async () => {
  const dir = modelFolder({ "a.yaml": modelYaml("a", "dcerpc", OPNUM_0), "b.yaml": modelYaml("b", "dcerpc", OPNUM_0, 'frequency:\n  rule: "> 2 in 10 min"') });
  const first = await loadModelSet(dir);
  onlyCacheFile();
  const second = await loadModelSet(dir);
  assert.equal(second.models, first.models);
  assert.is(second.models[1].frequency?.count, 3);
});

test("stored specs are served on a hit", async () => {
  const dir = modelFolder({ "a.yaml": modelYaml("a", "dcerpc", OPNUM_0) });
  await loadModelSet(dir);
  renameStoredModel(onlyCacheFile(), "Stored name");
  assert.is((await loadModelSet(dir)).models[0].name, "Stored name");
});

test("changed model text misses the cache", async () => {
  const dir = modelFolder({ "a.yaml": modelYaml("a", "dcerpc", OPNUM_0) });
  await loadModelSet(dir);
  renameStoredModel(onlyCacheFile(), "Stored name");
  writeFileSync(join(dir, "a.yaml"), modelYaml("a", "dcerpc", OPNUM_0).replace("Test model a", "Edited model a"));
  assert.is((await loadModelSet(dir)).models[0].name, "Edited model a");
});

test("added model file misses the cache", async () => {
  const dir = modelFolder({ "a.yaml": modelYaml("a", "dcerpc", OPNUM_0) });
  await loadModelSet(dir);
  writeFileSync(join(dir, "b.yaml"), modelYaml("b", "dcerpc", OPNUM_0));
  assert.equal((await loadModelSet(dir)).models.map((m) => m.id), ["a", "b"]);
});

test("invalid model is reported every time", async () => {
  const dir = modelFolder({ "a.yaml": modelYaml("a", "dcerpc", OPNUM_0).replace("score: 60", "score: high") });
  for (let run = 0; run < 2; run++) {
    try {
      await loadModelSet(dir);
      assert.unreachable("an invalid model loaded");
    } catch (error) {
      assert.instance(error, ModelError);
    }
  }
  assert.equal(readdirSync(cacheDir), []);
});

test("cached model errors name their line", async () => {
  const dir = modelFolder({ "a.yaml": modelYaml("a", "dcerpc", "  - field: no_such_field\n    equals: 0") });
  const messages: string[] = [];
  for (let run = 0; run < 2; run++) {
    const models = await loadModelSet(dir);
    const engine = await Engine.create();
    try {
      models.install(engine);
      assert.unreachable("a model with an unknown field installed");
    } catch (error) {
      messages.push((error as Error).message);
    }
  }
  onlyCacheFile();
  assert.match(messages[0], /a\.yaml line 8: field "no_such_field" is not a record field/);
  assert.is(messages[1], messages[0]);
});

test("empty cache folder setting stores nothing", async () => {
  process.env.FIELDSENSE_CACHE_DIR = "";
  const dir = modelFolder({ "a.yaml": modelYaml("a", "dcerpc", OPNUM_0) });
  await loadModelSet(dir);
  await loadModelSet(dir);
  assert.equal(readdirSync(cacheDir), []);
});

test("cache folder keeps the newest files", async () => {
  for (let i = 0; i < 40; i++) await loadModelSet(modelFolder({ "a.yaml": modelYaml(`a${i}`, "dcerpc", OPNUM_0) }));
  assert.is(readdirSync(cacheDir).length, 32);
});

test("package profiles load the same from the cache", () => {
  const first = loadProfiles([packageProfilesDir]);
  assert.ok(readdirSync(cacheDir).some((name) => name.startsWith("profiles-")));
  assert.equal(loadProfiles([packageProfilesDir]), first);
});

test.run();
