// Test certificates made with the openssl command line: a CA, a server
// certificate for 127.0.0.1, and client certificates whose CN is the MQTT
// user name (Mosquitto's use_identity_as_username).
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface CertificateFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

const OPENSSL = process.env.OPENSSL ?? "openssl";
const DAYS = "2";

function openssl(args: string[]): void {
  execFileSync(OPENSSL, args, { stdio: ["ignore", "ignore", "pipe"] });
}

// Creates the CA in `dir` and returns a function that issues certificates.
export function makeCertificateAuthority(dir: string): { caFile: string; issue(name: string, options?: { ip?: string }): CertificateFiles } {
  const caKey = join(dir, "ca.key");
  const caFile = join(dir, "ca.crt");
  openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", caKey, "-out", caFile, "-days", DAYS, "-subj", "/CN=Fieldsense test CA"]);
  return {
    caFile,
    issue(name, options = {}) {
      const keyFile = join(dir, `${name}.key`);
      const request = join(dir, `${name}.csr`);
      const certFile = join(dir, `${name}.crt`);
      const extensions = join(dir, `${name}.ext`);
      openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", keyFile, "-out", request, "-subj", `/CN=${name}`]);
      writeFileSync(extensions, options.ip
        ? `subjectAltName=IP:${options.ip}\nextendedKeyUsage=serverAuth\n`
        : "extendedKeyUsage=clientAuth\n");
      openssl(["x509", "-req", "-in", request, "-CA", caFile, "-CAkey", caKey, "-CAcreateserial",
        "-out", certFile, "-days", DAYS, "-extfile", extensions]);
      return { caFile, certFile, keyFile };
    },
  };
}

export function opensslAvailable(): boolean {
  try {
    execFileSync(OPENSSL, ["version"], { stdio: "ignore" });
    return true;
  } catch {
    console.log(`  skipped: openssl not found as ${OPENSSL} (install openssl or set OPENSSL to its path)`);
    return false;
  }
}
