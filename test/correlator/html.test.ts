import { test } from "uvu";
import * as assert from "uvu/assert";
import { reportToHtml } from "../../correlator/src/html.js";
import { renderIncidentReport } from "../../correlator/src/report.js";
import { openStore } from "../../correlator/src/store.js";
import { sampleAlert, smbCopyRecords } from "../publish/samples.js";

test("html report structure", async () => {
  const store = await openStore(":memory:");
  const inserted = await store.insertAlert(sampleAlert());
  for (const record of smbCopyRecords()) await store.insertRecord("plant-a", "gw-1", record);
  assert.ok(inserted.stored);
  if (!inserted.stored) return;
  const html = reportToHtml((await renderIncidentReport(store, inserted.incidentId!))!, "Incident 1");
  await store.close();
  assert.match(html, "<title>Incident 1</title>");
  assert.match(html, "<h1>Incident 1: score 85</h1>");
  assert.match(html, "<h2>3. Files moved</h2>");
  assert.match(html, "<td>upd4te.exe</td><td><code>\\\\10.10.1.20\\ADMIN$</code></td>");
  assert.match(html, "<li>Site: plant-a</li>");
  // Alerts, files and timeline.
  assert.is((html.match(/<table>/g) ?? []).length, 3);
  assert.match(html, "<h2>Timeline</h2>");
});

test("html escapes markup and split pipes", async () => {
  const html = reportToHtml("# a <b>\n\n| x | y |\n|---|---|\n| `p\\|q` | <i>&</i> |\n\nplain \"text\"", "t <1>");
  assert.match(html, "<title>t &lt;1&gt;</title>");
  assert.match(html, "<h1>a &lt;b&gt;</h1>");
  assert.match(html, "<td><code>p|q</code></td><td>&lt;i&gt;&amp;&lt;/i&gt;</td>");
  assert.match(html, "<p>plain &quot;text&quot;</p>");
  assert.not.match(html, "<i>");
});

test("html keeps alert values as text", async () => {
  const store = await openStore(":memory:");
  const alert = sampleAlert();
  alert.name = "x\n# Injected heading\n<script>alert(1)</script> *bold* | cell";
  const inserted = await store.insertAlert(alert);
  if (!inserted.stored) throw new Error("alert not stored");
  const html = reportToHtml((await renderIncidentReport(store, inserted.incidentId!))!, "Incident 1");
  await store.close();
  assert.not.match(html, "<h1>Injected heading</h1>");
  assert.not.match(html, "<script>");
  assert.match(html, "<h3>x # Injected heading &lt;script&gt;alert(1)&lt;/script&gt; *bold* | cell (<code>remote-service-svcctl</code>)</h3>");
  assert.match(html, "<td>x # Injected heading &lt;script&gt;alert(1)&lt;/script&gt; *bold* | cell</td>");
});

test.run();
