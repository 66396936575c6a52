// The CLI's side of the control interface (./server.ts): HTTP GET requests on
// the agent's Unix socket.
import { request } from "node:http";

export const CONTROL_TIMEOUT_MS = 5_000;

export class ControlError extends Error {
  readonly code = "FIELDSENSE_CONTROL";
}

function failure(socketPath: string, error: NodeJS.ErrnoException): ControlError {
  if (error.code === "ENOENT" || error.code === "ECONNREFUSED") {
    return new ControlError(`no running agent is listening on ${socketPath} (${error.code}); start it with "fieldsense agent --config FILE" or give its socket with --socket`);
  }
  if (error.code === "EACCES") {
    return new ControlError(`permission denied on control socket ${socketPath}; run the command as root or as a member of the agent's group`);
  }
  return new ControlError(`request to the agent on ${socketPath} failed: ${error.message}`);
}

// GETs `path` and parses the JSON body. A non-2xx status raises the error
// the agent sent.
export function getJson<T>(socketPath: string, path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: "GET", timeout: CONTROL_TIMEOUT_MS }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => { body += chunk; });
      response.on("end", () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          reject(new ControlError(`the agent on ${socketPath} sent invalid JSON for ${path}`));
          return;
        }
        if ((response.statusCode ?? 500) >= 300) {
          reject(new ControlError(`the agent rejected ${path}: ${(parsed as { error?: string }).error ?? `status ${response.statusCode}`}`));
          return;
        }
        resolve(parsed as T);
      });
    });
    req.on("timeout", () => req.destroy(new ControlError(`the agent on ${socketPath} timed out after ${CONTROL_TIMEOUT_MS} ms on ${path}`)));
    req.on("error", (error: NodeJS.ErrnoException) => reject(error instanceof ControlError ? error : failure(socketPath, error)));
    req.end();
  });
}

// GETs an NDJSON stream and calls `onItem` per line until the agent closes
// the stream or `signal` aborts. Resolves when the stream ends.
export function followNdjson(socketPath: string, path: string, onItem: (item: unknown) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: "GET", signal }, (response) => {
      if ((response.statusCode ?? 500) >= 300) {
        let body = "";
        response.on("data", (chunk: Buffer) => { body += chunk.toString(); });
        response.on("end", () => reject(new ControlError(`the agent rejected ${path}: ${body}`)));
        return;
      }
      let pending = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        pending += chunk;
        let newline: number;
        while ((newline = pending.indexOf("\n")) >= 0) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          if (line.trim() !== "") onItem(JSON.parse(line));
        }
      });
      response.on("end", () => resolve());
      response.on("error", () => resolve());
    });
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (error.name === "AbortError") resolve();
      else reject(failure(socketPath, error));
    });
    req.end();
  });
}
