// Open a preflight HTML report in headless chromium and report what a person would see, as JSON:
// console errors, requests that left the page, the counts, the chart bars, the table after filtering and
// sorting, and a full-page screenshot. Usage: node render.mjs REPORT.html SCREENSHOT.png USER_DATA_DIR
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";

const [report, screenshot, userDataDir] = process.argv.slice(2);
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1400, height: 900 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
const errors = [];
const requests = [];
try {
  const page = await context.newPage();
  page.on("console", (message) => { if (message.type() === "error") errors.push(message.text()); });
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("request", (request) => { if (!request.url().startsWith("file:")) requests.push(request.url()); });
  const url = pathToFileURL(report).href;
  await page.goto(url, { waitUntil: "load" });
  const read = () => page.evaluate(() => ({
    counts: Object.fromEntries([...document.querySelectorAll("[data-count]")]
      .map((el) => [el.getAttribute("data-count"), Number(el.textContent)])),
    results: Object.fromEntries([...document.querySelectorAll("#chart-results .bar")]
      .map((el) => [el.getAttribute("data-label"), Number(el.getAttribute("data-value"))])),
    reasons: Object.fromEntries([...document.querySelectorAll("#chart-reasons .bar")]
      .map((el) => [el.getAttribute("data-label"), Number(el.getAttribute("data-value"))])),
    regions: Object.fromEntries([...document.querySelectorAll("#regions li")]
      .map((el) => [el.getAttribute("data-region"), Number(el.getAttribute("data-vms"))])),
    rows: [...document.querySelectorAll("#vms tbody tr[data-vm]")].filter((r) => !r.hidden)
      .map((r) => r.getAttribute("data-vm")),
    shown: Number(document.getElementById("shown").textContent),
  }));
  const loaded = await read();
  await page.selectOption("#result-filter", "Blocked");
  const blocked = await read();
  await page.selectOption("#result-filter", "");
  await page.fill("#filter", "rg-legacy");
  const filtered = await read();
  await page.fill("#filter", "");
  await page.click("#vms thead th:first-child");
  await page.click("#vms thead th:first-child");  // descending by name
  const sorted = await read();
  const first = page.locator("#vms tbody tr[data-vm] details").first();
  await first.locator("summary").click();
  const opened = await first.evaluate((el) => ({ open: el.open, checks: el.querySelectorAll(".checks tr").length }));
  await page.click("#vms thead th:first-child");  // back to ascending for the picture
  await page.screenshot({ path: screenshot, fullPage: true });
  process.stdout.write(JSON.stringify({ errors, requests, loaded, blocked, filtered, sorted, opened }));
} finally {
  await context.close();
}
