// Scroll benchmark of the web UI's virtual lists (issue 18, part 2), run by bench/ui_scroll.sh
// against `catalog-sync serve` in headless Chromium (playwright-core). It opens the playlists
// page (20,000 playlists), scrolls its table from top to bottom at a steady speed for SCROLL_S
// seconds, then opens the 20,000-item playlist and scrolls its items pane the same way (items
// are fetched page by page as the window nears their end). Frame timings come from
// requestAnimationFrame deltas inside the page; a frame is dropped when its delta exceeds 1.5
// frame budgets of the page's own median. Prints one JSON line per list: frames, median and p99
// delta (ms), dropped frames, the most table rows in the DOM at once, and the time to the first
// row (ms).
//
// Environment: LOGIN_URL, CHROMIUM, BIG_TITLE (title of the big playlist), SCROLL_S (default 4).
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../ui/package.json"));
const { chromium } = require("playwright-core");
const { LOGIN_URL, CHROMIUM, BIG_TITLE } = process.env;
const SECONDS = Number(process.env.SCROLL_S ?? "4");

/** Scrolls `selector` from top to bottom over `seconds`, one step per frame; frame deltas and DOM rows. */
function scrollRun([selector, seconds]) {
  return new Promise((resolve) => {
    const box = document.querySelector(selector);
    const deltas = [];
    let maxRows = 0;
    const start = performance.now();
    let last = start;
    function frame(now) {
      deltas.push(now - last);
      last = now;
      const t = (now - start) / (seconds * 1000);
      box.scrollTop = Math.min(1, t) * (box.scrollHeight - box.clientHeight);
      maxRows = Math.max(maxRows, box.querySelectorAll("tbody tr[data-id]").length);
      if (t < 1) requestAnimationFrame(frame);
      else resolve({ deltas: deltas.slice(1), maxRows, scrollHeight: box.scrollHeight });
    }
    requestAnimationFrame(frame);
  });
}

function summary(name, run, firstRowMs) {
  const d = [...run.deltas].sort((a, b) => a - b);
  const median = d[Math.floor(d.length / 2)];
  const p99 = d[Math.min(d.length - 1, Math.floor(d.length * 0.99))];
  const dropped = run.deltas.filter((x) => x > median * 1.5).length;
  const r = (x) => Math.round(x * 10) / 10;
  return JSON.stringify({ list: name, first_row_ms: Math.round(firstRowMs), frames: d.length, median_ms: r(median), p99_ms: r(p99), max_ms: r(d[d.length - 1]), dropped, max_dom_rows: run.maxRows, scroll_height_px: run.scrollHeight });
}

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
try {
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  page.setDefaultTimeout(120_000);
  let t0 = Date.now();
  await page.goto(LOGIN_URL);
  await page.locator(".tablewrap tbody tr[data-id]").first().waitFor();
  const firstPlaylists = Date.now() - t0;
  await page.waitForTimeout(500);
  console.log(summary("playlists", await page.evaluate(scrollRun, [".tablewrap", SECONDS]), firstPlaylists));
  await page.getByLabel("Filter playlists").fill(BIG_TITLE);
  t0 = Date.now();
  await page.locator(".tablewrap tbody tr[data-id]").first().click();
  await page.locator(".items .scroll tbody tr[data-id]").first().waitFor();
  const firstItems = Date.now() - t0;
  await page.waitForTimeout(500);
  console.log(summary("items", await page.evaluate(scrollRun, [".items .scroll", SECONDS]), firstItems));
} finally {
  await browser.close();
}
