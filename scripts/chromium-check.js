// Opens an HTML file in headless Chromium (Debian's /usr/bin/chromium, driven
// over the DevTools protocol by playwright-core) and prints one JSON object
// describing what the browser made of it:
//   node scripts/chromium-check.js FILE.html OUTDIR
// {
//   "console": [{type, text}],   every console message (CSP violations included)
//   "pageerrors": [text],        uncaught errors
//   "requests": [url],           every request other than FILE itself (none expected)
//   "tags": {name: count},       elements by tag name (lower case)
//   "handlers": [tag.attr],      attributes named on* (event handlers; none expected)
//   "counts": {selector: n},     for the selectors given in APIVIDEO_COUNT (JSON array)
//   "texts": [string],           every non-blank text node, in document order
//   "overflow": {1280: px, 390: px}, scrollWidth - viewport width at each width
//   "screenshots": {1280: path, 390: path}  full-page PNGs in OUTDIR
// }
// Chromium runs as the brief for this project says: --headless, no sandbox
// (root), no GPU, no QUIC, no first-run, no background networking, no
// component updates, no sync, a fresh profile.
"use strict";
const path = require("path");
const fs = require("fs");
const os = require("os");

const [file, outdir] = process.argv.slice(2);
if (!file || !outdir) {
  console.error("usage: node chromium-check.js FILE.html OUTDIR");
  process.exit(2);
}
const cache = process.env.APIVIDEO_PLAYWRIGHT_DIR;
const { chromium } = require(path.join(cache, "node_modules", "playwright-core"));
const selectors = JSON.parse(process.env.APIVIDEO_COUNT || "[]");

(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "apivideo-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.APIVIDEO_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
  });
  const result = { console: [], pageerrors: [], requests: [], overflow: {}, screenshots: {} };
  const url = "file://" + path.resolve(file);
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on("console", (m) => result.console.push({ type: m.type(), text: m.text() }));
    page.on("pageerror", (e) => result.pageerrors.push(String(e)));
    page.on("request", (r) => { if (r.url() !== url) result.requests.push(r.url()); });
    await page.goto(url, { waitUntil: "load" });
    Object.assign(result, await page.evaluate((sels) => {
      const tags = {};
      const handlers = [];
      for (const el of document.querySelectorAll("*")) {
        const name = el.tagName.toLowerCase();
        tags[name] = (tags[name] || 0) + 1;
        for (const a of el.attributes) {
          if (a.name.toLowerCase().startsWith("on")) handlers.push(name + "." + a.name);
        }
      }
      const counts = {};
      for (const s of sels) counts[s] = document.querySelectorAll(s).length;
      const texts = [];
      const walk = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT);
      for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        if (n.nodeValue.trim() !== "") texts.push(n.nodeValue);
      }
      return { tags, handlers, counts, texts };
    }, selectors));
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      result.overflow[width] = await page.evaluate(() =>
        document.documentElement.scrollWidth - document.documentElement.clientWidth);
      const shot = path.join(outdir, "report-" + width + ".png");
      await page.screenshot({ path: shot, fullPage: true });
      result.screenshots[width] = shot;
    }
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(result) + "\n");
})().catch((e) => {
  console.error(String(e && e.stack || e));
  process.exit(1);
});
