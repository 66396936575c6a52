// The console in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core): the incident list, an incident page and a search render
// with the right content, and alert markup stays text. A screenshot of the
// incident page goes to the OS temp folder; the test prints its path.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { openStore, type Store } from "../../correlator/src/store.js";
import { hashConsolePassword } from "../../correlator/src/web/auth.js";
import { WebConsole } from "../../correlator/src/web/server.js";
import { capture } from "../helpers/captures.js";
import { insertCraftedRows, replayIntoStore } from "./search-fixtures.js";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

interface Session {
  store: Store;
  web: WebConsole;
  context: BrowserContext;
  page: Page;
  profile: string;
  dialogs: string[];
}

let session: Session | undefined;
let skipped = false;

// Starts the console on a store with the PsExec capture and the crafted lab
// rows, and one browser page; undefined after printing why tests skip.
async function open(): Promise<Session | undefined> {
  if (session || skipped) return session;
  if (!existsSync(CHROMIUM)) {
    console.log(`  skipped: Chromium not found at ${CHROMIUM} (install Debian's chromium package or set CHROMIUM)`);
    skipped = true;
    return undefined;
  }
  const psexec = capture("dcerpc/401trg_smb_psexec_add_user_svcctl.pcap");
  const store = await openStore(":memory:");
  if (psexec) await replayIntoStore(store, [psexec]);
  await insertCraftedRows(store);
  const web = await WebConsole.start(store, { port: 0, host: "127.0.0.1" });
  const profile = mkdtempSync(join(tmpdir(), "fieldsense-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? await context.newPage();
  const dialogs: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  session = { store, web, context, page, profile, dialogs };
  return session;
}

test("browser incident list", async () => {
  const s = await open();
  if (!s) return;
  await s.page.goto(`${s.web.url}/`);
  assert.is(await s.page.title(), "Incidents - Fieldsense");
  const incidents = await s.store.rankedIncidents();
  const rows = s.page.locator("#incidents tbody tr");
  assert.is(await rows.count(), incidents.length);
  // Highest rank first, as the store ranks them, with the score beside it.
  const ranks = await s.page.locator("#incidents tbody .rank").allTextContents();
  assert.equal(ranks.map(Number), incidents.map((incident) => incident.rank));
  const scores = await s.page.locator("#incidents tbody td.score").allTextContents();
  assert.equal(scores.map(Number), incidents.map((incident) => incident.score));
  const firstLink = await rows.first().locator("a").first().textContent();
  assert.is(firstLink, `Incident ${incidents[0].id}`);
});

test("browser incident page", async () => {
  const s = await open();
  if (!s) return;
  const incident = (await s.store.incidents()).find((i) => i.hosts.includes("192.168.10.10")) ?? (await s.store.incidents())[0];
  await s.page.goto(`${s.web.url}/incidents/${incident.id}`);
  assert.is(await s.page.locator("h1").first().textContent(), `Incident ${incident.id}: score ${incident.score}`);
  assert.is(await s.page.locator("#timeline tbody tr").count(), incident.alertCount);
  assert.is(await s.page.locator("svg.graph g.node").count() > 1, true);
  assert.is(await s.page.locator("svg.graph line.edge").count() > 0, true);
  const headings = await s.page.locator(".report h2").allTextContents();
  // The four triage questions, the ATT&CK mapping and the next steps; the
  // report's timeline is left out because the page's own table shows it.
  assert.equal(headings, [
    "1. What fired, and the model's logic", "2. Who did what to which host", "3. Files moved", "4. Is this routine?",
    "ATT&CK mapping", "Recommended next steps",
  ]);
  assert.equal(await s.page.locator("h2").filter({ hasText: /^Timeline$/ }).count(), 1);
  if (incident.hosts.includes("192.168.10.10")) {
    // The PsExec service binary copied to ADMIN$ shows in the report's file table.
    assert.match(await s.page.locator(".report").textContent() ?? "", "PSEXESVC.exe");
  }
  const shots = mkdtempSync(join(tmpdir(), "fieldsense-console-shots-"));
  const path = join(shots, `incident-${incident.id}.png`);
  await s.page.screenshot({ path, fullPage: true });
  assert.ok(statSync(path).size > 10_000, `screenshot ${path} is nearly empty`);
  console.log(`  screenshot: ${path}`);
});

test("browser alert markup stays text", async () => {
  const s = await open();
  if (!s) return;
  const hits = await s.page.goto(`${s.web.url}/search?q=${encodeURIComponent("evidence.service_name:<script>*")}`);
  assert.is(hits?.status(), 200);
  const link = s.page.locator("#hits tbody tr a[href^='/incidents/']").first();
  await link.click();
  await s.page.waitForLoadState("load");
  assert.match(await s.page.title(), /^Incident \d+ - Fieldsense$/);
  // The service name is shown as text, not run and not turned into an image.
  const cell = s.page.locator("details th:text-is('service_name') + td").first();
  assert.is(await cell.textContent(), `<script>document.title="pwned"</script><img src=x onerror=alert(1)>`);
  assert.is(await s.page.locator("main img").count(), 0);
  assert.is(await s.page.locator("main script").count(), 0);
  assert.equal(s.dialogs, []);
});

test("browser search form", async () => {
  const s = await open();
  if (!s) return;
  await s.page.goto(`${s.web.url}/`);
  await s.page.fill("header input[name=q]", "*.job AND smb");
  await Promise.all([s.page.waitForURL(/\/search\?q=/), s.page.press("header input[name=q]", "Enter")]);
  assert.is(await s.page.locator("#hit-count").textContent(), "1 hit(s).");
  const row = await s.page.locator("#hits tbody tr").first().textContent() ?? "";
  assert.match(row, "2026-11-02T10:05:00.000000Z");
  assert.match(row, "path=Windows\\Tasks\\At2.job");
  assert.is(await s.page.inputValue("header input[name=q]"), "*.job AND smb");

  await s.page.fill("header input[name=q]", "score>=high");
  await Promise.all([s.page.waitForURL(/score/), s.page.press("header input[name=q]", "Enter")]);
  const error = await s.page.locator("#search-error").textContent() ?? "";
  assert.equal(error.split("\n"), [
    'invalid query at column 8: score compares numbers: "high" is not a number; for example score>=70',
    "  score>=high",
    "         ^^^^",
  ]);
});

test("browser device page", async () => {
  const s = await open();
  if (!s) return;
  await s.page.goto(`${s.web.url}/`);
  const host = s.page.locator("#incidents tbody tr a[href^='/devices/']", { hasText: "10.30.0.9" }).first();
  await Promise.all([s.page.waitForURL(/\/devices\/10\.30\.0\.9$/), host.click()]);
  assert.is(await s.page.locator("h1").textContent(), "Device 10.30.0.9");
  const facts = Object.fromEntries(await s.page.locator("#inventory tr").evaluateAll((rows) =>
    rows.map((row) => [row.querySelector("th")?.textContent ?? "", row.querySelector("td")?.textContent ?? ""])));
  assert.is(facts["ports served"], "445");
  assert.is(facts["first seen"], "2026-11-01T23:59:59.500000Z");
  assert.is(facts["last seen"], "2026-11-02T10:05:00.000000Z");
  assert.is(await s.page.locator("#hits tbody tr").count(), 7);
});

test("browser login with session cookie", async () => {
  const s = await open();
  if (!s) return;
  const password = "plant floor 7";
  const guarded = await WebConsole.start(s.store, { port: 0, host: "127.0.0.1", passwordHash: hashConsolePassword(password), requireLogin: true });
  try {
    await s.page.goto(`${guarded.url}/`);
    assert.is(new URL(s.page.url()).pathname, "/login");
    await s.page.fill("input[name=password]", "wrong guess");
    await Promise.all([s.page.waitForURL(/\/login\?failed/), s.page.click("main button[type=submit]")]);
    assert.is(await s.page.locator("#login-error").textContent(), "Wrong password.");

    await s.page.fill("input[name=password]", password);
    await Promise.all([s.page.waitForURL(`${guarded.url}/`), s.page.click("main button[type=submit]")]);
    assert.is(await s.page.locator("#incidents tbody tr").count(), (await s.store.incidents()).length);
    const cookie = (await s.context.cookies(guarded.url)).find((c) => c.name === "fieldsense_session");
    assert.ok(cookie, "no session cookie");
    assert.is(cookie!.httpOnly, true);
    assert.is(cookie!.sameSite, "Strict");
    // HttpOnly keeps the session away from scripts in the page.
    assert.is(await s.page.evaluate(() => document.cookie), "");

    await Promise.all([s.page.waitForURL(/\/login$/), s.page.click("header form[action='/logout'] button")]);
    await s.page.goto(`${guarded.url}/search?q=smb`);
    assert.is(new URL(s.page.url()).pathname, "/login");
  } finally {
    await guarded.stop();
  }
});

test.after(async () => {
  if (!session) return;
  await session.context.close();
  await session.web.stop();
  await session.store.close();
  rmSync(session.profile, { recursive: true, force: true });
});

test.run();
