// The web console over HTTP on 127.0.0.1: pages and their escaping, the
// refusal to listen beyond loopback without a login, and the login flow.
import { test } from "uvu";
import { request as httpRequest } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import * as assert from "uvu/assert";
import { correlatorCommand } from "../../agent/src/cli/correlator.js";
import { Correlator } from "../../correlator/src/service.js";
import { openStore, type Store } from "../../correlator/src/store.js";
import { consoleData, TIMELINE_MAX_ENTRIES } from "../../correlator/src/web/adapter.js";
import { hashConsolePassword, isLoopbackHost } from "../../correlator/src/web/auth.js";
import { entityGraphSvg } from "../../correlator/src/web/graph.js";
import { checkConsoleOptions, WebConsole } from "../../correlator/src/web/server.js";
import { PLC } from "../publish/samples.js";
import { startMosquitto } from "./mosquitto.js";
import { insertCraftedRows } from "./search-fixtures.js";

const PASSWORD = "correct horse battery staple";
const PASSWORD_HASH = hashConsolePassword(PASSWORD);

async function craftedStore(): Promise<Store> {
  const store = await openStore(":memory:");
  await insertCraftedRows(store);
  return store;
}

async function get(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(`${base}${path}`, { headers, redirect: "manual" });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

async function withConsole(options: { requireLogin?: boolean }, body: (web: WebConsole, store: Store) => Promise<void>): Promise<void> {
  const store = await craftedStore();
  const web = await WebConsole.start(store, { port: 0, host: "127.0.0.1", passwordHash: PASSWORD_HASH, ...options });
  try {
    await body(web, store);
  } finally {
    await web.stop();
    await store.close();
  }
}

test("console incident list ranked", async () => {
  await withConsole({}, async (web) => {
    const page = await get(web.url, "/");
    assert.is(page.status, 200);
    assert.is(page.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(page.headers.get("content-security-policy") ?? "", "default-src 'none'");
    // The crafted rows make one incident: the markup alert with the Modbus
    // write (score 100 after the bonus). The alert scored 35 two days earlier
    // is below the incident threshold of 40 and opens none. The rank is
    // 100 (score) + 15 (four tactics) + 30 (10.30.0.9 entered over svcctl,
    // then writing Modbus) + 5 (one OT device) = 150.
    const rows = [...page.text.matchAll(/<tr>\n<td><span class="rank">(\d+)<\/span>.*\n<td><a href="\/incidents\/(\d+)">/g)].map((m) => [Number(m[1]), Number(m[2])]);
    assert.equal(rows, [[150, 1]]);
    assert.match(page.text, '<small class="why">+100 incident score 100; +15 4 ATT&amp;CK tactics (Execution TA0002, ');
    assert.match(page.text, "+30 a host reached from IT then commanded OT devices; +5 1 OT device(s) touched</small>");
    assert.match(page.text, '<span class="pivot">IT to OT</span>');
    assert.match(page.text, '<td class="score">100</td>');
    assert.match(page.text, "<td>Execution, Persistence, Privilege Escalation, Impair Process Control</td>");
    assert.match(page.text, '<a href="/devices/10.10.2.10">10.10.2.10</a>');
  });
});

test("console incident page escapes alert values", async () => {
  await withConsole({}, async (web) => {
    const page = await get(web.url, "/incidents/1");
    assert.is(page.status, 200);
    assert.not.match(page.text, "<script>");
    assert.not.match(page.text, "<img src=x");
    assert.match(page.text, "&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;");
    // Timeline, graph, report and evidence are all there.
    assert.match(page.text, '<table id="timeline">');
    const timeline = page.text.slice(page.text.indexOf('<table id="timeline">'), page.text.indexOf("</table>", page.text.indexOf('<table id="timeline">')));
    assert.equal([...timeline.matchAll(/<tr><td>(2026-[^<]+)<\/td>/g)].map((m) => m[1]), ["2026-11-02T10:00:00.660000Z", "2026-11-02T10:01:00.006000Z"]);
    assert.match(timeline, "<td>Execution (TA0002), Persistence (TA0003), Privilege Escalation (TA0004)</td><td>T1569.002, T1543.003</td>");
    assert.match(timeline, "<td>Impair Process Control (TA0106)</td><td>T0855, T0836</td>");
    // One timeline: the report's own is left out of the page.
    assert.is(page.text.match(/>Timeline</g)?.length, 1);
    assert.match(page.text, "<h2>ATT&amp;CK mapping</h2>");
    assert.match(page.text, '<svg xmlns="http://www.w3.org/2000/svg" class="graph"');
    // The store's graph adds upd4te.exe, which an SMB WRITE record between
    // the incident's hosts put on 10.30.0.9 a minute before the alert.
    assert.is((page.text.match(/<g class="node"/g) ?? []).length, 5, "10.30.0.5, 10.30.0.9, the PLC, account LAB\\eve and upd4te.exe");
    assert.match(page.text, '<g class="node" data-kind="file">');
    assert.match(page.text, '<g class="node" data-kind="ot_device">');
    assert.match(page.text, "<h2>1. What fired, and the model's logic</h2>");
    assert.match(page.text, '<details id="alert-');
    assert.match(page.text, "<th>binary_path</th><td>C:\\Temp\\50%_off.exe</td>");
  });
});

test("console unknown incident and page", async () => {
  await withConsole({}, async (web) => {
    const incident = await get(web.url, "/incidents/99");
    assert.is(incident.status, 404);
    assert.match(incident.text, "Incident 99 is not in the store");
    const page = await get(web.url, "/nothing/%3Cscript%3E");
    assert.is(page.status, 404);
    assert.match(page.text, "There is no page /nothing/%3Cscript%3E.");
  });
});

test("console device page facts", async () => {
  await withConsole({}, async (web) => {
    const page = await get(web.url, "/devices/10.30.0.9");
    assert.is(page.status, 200);
    assert.match(page.text, "<h1>Device 10.30.0.9</h1>");
    assert.match(page.text, "<tr><th>ports served</th><td>445</td></tr>");
    assert.match(page.text, "<tr><th>protocols</th><td>dcerpc, modbus, smb</td></tr>");
    assert.match(page.text, "<tr><th>peers</th><td>10.10.2.10, 10.30.0.5</td></tr>");
    assert.match(page.text, "<tr><th>alerts</th><td>2</td></tr>");
    assert.match(page.text, "<tr><th>records</th><td>5</td></tr>");
    assert.match(page.text, '<li><a href="/incidents/1">Incident 1</a>');
    assert.is((page.text.match(/<tr class="hit"/g) ?? []).length, 7);
    const malformed = await get(web.url, "/devices/%E0%A4%A");
    assert.is(malformed.status, 400);
    assert.match(malformed.text, "The device address in /devices/%E0%A4%A is not valid percent-encoding.");
    const unknown = await get(web.url, `/devices/${encodeURIComponent('"><b>x')}`);
    assert.is(unknown.status, 200);
    assert.match(unknown.text, "<h1>Device &quot;&gt;&lt;b&gt;x</h1>");
    assert.match(unknown.text, "The store contains no alert or record with &quot;&gt;&lt;b&gt;x.");
  });
});

test("console device profile from graph", async () => {
  await withConsole({}, async (web, store) => {
    const before = await get(web.url, `/devices/${PLC}`);
    assert.match(before.text, "No device profile is stored for this device.");
    // A Modbus identity response teaches the PLC's vendor, and a DNS answer
    // its name, which the graph then puts in the node's label.
    await store.insertRecord("lab", "gw-lab", {
      type: "modbus", ts: "2026-11-02T10:02:00.000000Z", src: { ip: "10.30.0.9", port: 50201 }, dst: { ip: PLC, port: 502 },
      flow_id: 11, server_to_client: true, function: 43, vendor_name: "Acme Automation", product_code: "M-340",
    });
    await store.insertRecord("lab", "gw-lab", {
      type: "dns", ts: "2026-11-02T10:02:01.000000Z", src: { ip: "10.30.0.2", port: 53 }, dst: { ip: "10.30.0.9", port: 53001 },
      flow_id: 12, server_to_client: true, query: "plc01.lab", answers: [PLC],
    });
    const page = await get(web.url, `/devices/${PLC}`);
    assert.is(page.status, 200);
    assert.match(page.text, "<tr><th>vendor_name</th><td>Acme Automation</td></tr>");
    assert.match(page.text, "<tr><th>product_code</th><td>M-340</td></tr>");
    assert.match(page.text, "<tr><th>names</th><td>plc01.lab</td></tr>");
  });
});

test("console search results and errors", async () => {
  await withConsole({}, async (web) => {
    const hits = await get(web.url, `/search?q=${encodeURIComponent("*.job AND smb")}`);
    assert.is(hits.status, 200);
    assert.match(hits.text, '<p id="hit-count">1 hit(s).</p>');
    assert.match(hits.text, "path=Windows\\Tasks\\At2.job");
    assert.match(hits.text, 'value="*.job AND smb"');
    const query = '"><script>alert(1)</script> AND score>=x';
    const bad = await get(web.url, `/search?q=${encodeURIComponent(query)}`);
    assert.is(bad.status, 400);
    assert.not.match(bad.text, "<script>");
    assert.match(bad.text, 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt; AND score&gt;=x"');
    assert.match(bad.text, '<pre class="error" id="search-error">invalid query at column 1: unterminated phrase');
  });
});

test("console refuses beyond loopback without login", async () => {
  const store = await craftedStore();
  try {
    for (const host of ["0.0.0.0", "::", "192.0.2.10"]) {
      let error: Error | undefined;
      try {
        // checkConsoleOptions rejects these before any socket is opened.
        await WebConsole.start(store, { port: 0, host });
      } catch (caught) {
        error = caught as Error;
      }
      assert.is((error as { code?: string } | undefined)?.code, "CONSOLE_NO_LOGIN", host);
      assert.match(error!.message, `the console would listen on ${host}, beyond loopback, without a login`);
    }
    assert.throws(() => checkConsoleOptions({ port: 0, requireLogin: true }), /requires a login but no password hash is configured/);
    assert.throws(() => checkConsoleOptions({ port: 0, host: "0.0.0.0", passwordHash: "plain" }), /not of the form "scrypt\$N\$r\$p\$SALT\$KEY"/);
    assert.throws(() => checkConsoleOptions({ port: 70_000 }), /invalid console port 70000/);
    checkConsoleOptions({ port: 0, host: "0.0.0.0", passwordHash: PASSWORD_HASH });
  } finally {
    await store.close();
  }
  for (const host of ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"]) assert.ok(isLoopbackHost(host), host);
  for (const host of ["0.0.0.0", "::", "10.0.0.1", "localhost.example", "128.0.0.1"]) assert.not.ok(isLoopbackHost(host), host);
});

test("console cli refuses before connecting", async () => {
  let stderr = "";
  // Port 1 on loopback has no broker: a connection attempt would fail with
  // another message, so this one shows the check ran first.
  const code = await correlatorCommand(["--broker", "mqtt://127.0.0.1:1", "--db", ":memory:", "--console", "0", "--console-host", "0.0.0.0"], {
    stdout: () => undefined, stderr: (t) => { stderr += t; },
  }).catch((error: Error) => {
    stderr += error.message;
    return 1;
  });
  assert.is(code, 1);
  assert.match(stderr, "the console would listen on 0.0.0.0, beyond loopback, without a login");
});

// The console binds its port before the correlator connects to the broker,
// so a port in use ends the start before any broker connection, which would
// create or resume the persistent session. The "broker" here is a TCP
// listener that counts connections.
test("console port in use before connecting", async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", () => resolve()));
  const busyPort = (busy.address() as AddressInfo).port;
  let connections = 0;
  const broker = createServer((socket) => { connections++; socket.destroy(); });
  await new Promise<void>((resolve) => broker.listen(0, "127.0.0.1", () => resolve()));
  const brokerPort = (broker.address() as AddressInfo).port;
  try {
    let stderr = "";
    const code = await correlatorCommand(["--broker", `mqtt://127.0.0.1:${brokerPort}`, "--db", ":memory:", "--console", String(busyPort)], {
      stdout: () => undefined, stderr: (t) => { stderr += t; },
    }).catch((error: Error) => {
      stderr += error.message;
      return 1;
    });
    assert.is(code, 1);
    assert.match(stderr, `the console cannot listen on 127.0.0.1:${busyPort}: EADDRINUSE, another program listens on that port; pick another --console port`);
    assert.is(connections, 0);
  } finally {
    await new Promise((resolve) => busy.close(resolve));
    await new Promise((resolve) => broker.close(resolve));
  }
});

test("console login flow", async () => {
  await withConsole({ requireLogin: true }, async (web) => {
    const anonymous = await get(web.url, "/");
    assert.is(anonymous.status, 303);
    assert.is(anonymous.headers.get("location"), "/login");
    const search = await get(web.url, "/search?q=smb");
    assert.is(search.status, 303, "search needs the login too");

    const post = (password: string, cookie?: string) => fetch(`${web.url}/login`, {
      method: "POST", redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", ...(cookie ? { cookie } : {}) },
      body: new URLSearchParams({ password }).toString(),
    });
    const wrong = await post("guess");
    assert.is(wrong.status, 303);
    assert.is(wrong.headers.get("location"), "/login?failed");
    assert.is(wrong.headers.get("set-cookie"), null);
    const failedPage = await get(web.url, "/login?failed");
    assert.match(failedPage.text, '<p class="error" id="login-error">Wrong password.</p>');

    const right = await post(PASSWORD);
    assert.is(right.status, 303);
    assert.is(right.headers.get("location"), "/");
    const cookie = right.headers.get("set-cookie") ?? "";
    assert.match(cookie, /^fieldsense_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=28800$/);
    const session = cookie.split(";")[0];

    const list = await get(web.url, "/", { cookie: session });
    assert.is(list.status, 200);
    assert.match(list.text, '<form method="post" action="/logout">');
    const forged = await get(web.url, "/", { cookie: "fieldsense_session=forged" });
    assert.is(forged.status, 303);

    const logout = await fetch(`${web.url}/logout`, { method: "POST", redirect: "manual", headers: { cookie: session } });
    assert.is(logout.status, 303);
    assert.match(logout.headers.get("set-cookie") ?? "", "fieldsense_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    const after = await get(web.url, "/", { cookie: session });
    assert.is(after.status, 303, "the session ended at logout");
  });
});

test("console login throttled", async () => {
  await withConsole({ requireLogin: true }, async (web) => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const response = await fetch(`${web.url}/login`, {
        method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "password=guess",
      });
      statuses.push(response.status);
    }
    assert.equal(statuses, [...Array(10).fill(303), 429]);
  });
});

// GET with a chosen Host header, which fetch does not let a caller set.
function getWithHost(port: number, host: string, path = "/"): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: "127.0.0.1", port, path, headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("error", reject);
    request.end();
  });
}

test("console rejects foreign host header", async () => {
  await withConsole({}, async (web) => {
    // What a page from another site sends after rebinding its name to 127.0.0.1.
    assert.is(await getWithHost(web.port, "attacker.example"), 421);
    assert.is(await getWithHost(web.port, `attacker.example:${web.port}`), 421);
    assert.is(await getWithHost(web.port, `localhost:${web.port}`), 200);
    // A target that is no path relative to the console is a bad request.
    assert.is(await getWithHost(web.port, `localhost:${web.port}`, "//"), 400);
    assert.is(await getWithHost(web.port, `127.0.0.1:${web.port}`), 200);
  });
});

test("console served by the correlator", async () => {
  const broker = await startMosquitto();
  if (!broker) return;
  let correlator: Correlator | undefined;
  try {
    correlator = await Correlator.start({ url: broker.url, dbPath: ":memory:", clientId: `fieldsense-console-test-${process.pid}`, console: { port: 0 } });
    await insertCraftedRows(correlator.store);
    assert.match(correlator.consoleUrl ?? "", /^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await get(correlator.consoleUrl!, "/incidents/1");
    assert.is(page.status, 200);
    assert.match(page.text, "<h1>Incident 1: score 100</h1>");
    assert.match(page.text, "&lt;script&gt;document.title=&quot;pwned&quot;");
  } finally {
    const url = correlator?.consoleUrl;
    await correlator?.stop();
    await broker.stop();
    if (url) {
      const closed = await fetch(url).then(() => "open", () => "closed");
      assert.is(closed, "closed", "the console stops with the correlator");
    }
  }
});

test("console graph layout deterministic", async () => {
  const store = await craftedStore();
  try {
    const [entities, edges] = [await store.entities(1), await store.edges(1)];
    assert.equal(entities.map((e) => `${e.kind} ${e.label}`).sort(), [
      "account LAB\\eve", "file \\\\10.10.1.20\\ADMIN$\\upd4te.exe", "host 10.30.0.5", "host 10.30.0.9", "ot_device 10.10.2.10",
    ]);
    const svg = entityGraphSvg(entities, edges);
    assert.is(entityGraphSvg([...entities].reverse(), [...edges].reverse()), svg);
    // One line per ordered pair of nodes: two alerts, the logon, and the file's write and location.
    assert.is((svg.match(/<line class="edge"/g) ?? []).length, 5);
    assert.match(svg, "<title>alert: 1 alert(s)</title>");
    assert.match(svg, "<title>file_write: from records</title>");
    // Sorted by kind, then label: the account is first, at the top of the circle.
    assert.match(svg, /<g class="node" data-kind="account"><circle cx="280" cy="190"/);
  } finally {
    await store.close();
  }
});

test("console adapter reads store shapes", async () => {
  const store = await craftedStore();
  try {
    const data = consoleData(store);
    const [ranked] = await data.rankedIncidents();
    assert.is(ranked.id, 1);
    assert.is(ranked.rank, 150);
    assert.is(ranked.pivot, true);
    assert.equal(ranked.why.map((factor) => factor.factor), ["score", "tactics", "pivot", "ot_devices"]);
    const timeline = await data.timeline(1);
    assert.equal(timeline.map((entry) => entry.alert.model), ["remote-service-svcctl", "modbus-write-not-master"]);
    assert.equal(timeline[1].tactics.map((tactic) => tactic.id), ["TA0106"]);
    assert.equal((await data.edges(1)).map((edge) => edge.kind).sort(), ["alert", "alert", "file_on", "file_write", "logon"]);
    assert.equal(await data.entities(99), []);
    assert.is(await data.incident(99), undefined);
  } finally {
    await store.close();
  }
});

test("console timeline capped", async () => {
  const store = await openStore(":memory:");
  try {
    // One alert more than the page lists, all of one incident.
    const [first] = await insertCraftedRows(store);
    for (let i = 0; i < TIMELINE_MAX_ENTRIES - 1; i++) {
      await store.insertAlert({ ...first, id: `capped-${i}`, ts: new Date(Date.parse(first.ts) + 1000 * (i + 1)).toISOString() });
    }
    const web = await WebConsole.start(store, { port: 0, host: "127.0.0.1" });
    try {
      const page = await get(web.url, "/incidents/1");
      assert.is(page.status, 200);
      assert.match(page.text, `<p>The first ${TIMELINE_MAX_ENTRIES} of ${TIMELINE_MAX_ENTRIES + 1} alerts are listed.</p>`);
    } finally {
      await web.stop();
    }
  } finally {
    await store.close();
  }
});

test.run();
