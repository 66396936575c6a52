// Opens a correlator store in a separate process and prints the error, for
// tests that need another user than root: root writes read-only files.
// node --import tsx test/correlator/open-store.mts PATH
import { openStore } from "../../correlator/src/store.ts";

try {
  await (await openStore(process.argv[2])).close();
  process.stdout.write("opened\n");
} catch (error) {
  process.stdout.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
}
