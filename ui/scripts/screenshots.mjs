//! Screenshots of the built UI (`ui/dist`) in headless Chromium, light and dark, for people to
//! look at: serves `dist` on loopback, injects tests/e2e/fake-tauri.js as the Tauri shell (the
//! app runs unchanged through its real @tauri-apps/api transport), walks the three pages
//! (empty catalog, selection with the items pane, an expanded job after live events, the
//! settings form showing validation errors) and writes PNGs to test-results/screenshots/.
//! Served under a strict Content-Security-Policy (no inline script or style) like the app's, so
//! a CSP violation shows up here. Fails on any page error or console error. Usage: `npm run build && npm run screenshots`.
import { createServer } from "node:http";
import { readFile, mkdir } from "node:fs/promises";
import { extname, join, normalize, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const dist = join(root, "dist");
const out = join(root, "test-results", "screenshots");
const fake = await readFile(join(root, "tests", "e2e", "fake-tauri.js"), "utf8");
// as strict as the app's: no inline script or style, nothing but our own origin
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'";
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png" };

const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
  const file = join(dist, path === "/" ? "index.html" : path);
  try {
    const body = await readFile(file);
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "content-security-policy": CSP });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${server.address().port}/`;
await mkdir(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});

const problems = [];
async function open(scheme, scenario, viewport = { width: 1240, height: 780 }) {
  const context = await browser.newContext({ viewport, colorScheme: scheme, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on("pageerror", (e) => problems.push(`${scheme}/${scenario}: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && problems.push(`${scheme}/${scenario}: console: ${m.text()}`));
  await page.addInitScript(`window.__FAKE_SCENARIO__ = ${JSON.stringify(scenario)};\n${fake}`);
  await page.goto(url);
  return { page, context };
}
const shot = (page, name) => page.screenshot({ path: join(out, `${name}.png`) });

for (const scheme of ["light", "dark"]) {
  {
    const { page, context } = await open(scheme, "empty");
    await page.getByText("No playlists yet").waitFor();
    await shot(page, `${scheme}-playlists-empty`);
    await page.keyboard.press("Control+2");
    await page.getByText("No jobs yet").waitFor();
    await shot(page, `${scheme}-tasks-empty`);
    await context.close();
  }
  {
    const { page, context } = await open(scheme, "demo");
    const row = (title) => page.locator("tr[data-id]", { hasText: title });
    await row("The Changelog").waitFor();
    await row("The Changelog").click();
    await page.keyboard.press("Enter");
    await row("Weekly science hour").click({ modifiers: ["Control"] });
    await page.getByText("Episode 120: The long road").first().waitFor();
    await page.getByRole("button", { name: "Mark wanted", exact: true }).click();
    await page.getByText("Marked as wanted").waitFor();
    await shot(page, `${scheme}-playlists`);

    await page.keyboard.press("Control+2");
    const job = page.locator("tr.job", { hasText: "#13" });
    await job.click();
    await page.getByText("download-2").waitFor();
    await page.evaluate(() => {
      window.__fake.tick();
      window.__fake.jobFinished(14, "succeeded");
    });
    await page.getByText("Sync #14 finished").first().waitFor();
    await shot(page, `${scheme}-tasks`);

    await page.keyboard.press("Control+3");
    await page.getByLabel("Parallel downloads").fill("0");
    await page.getByLabel("File names").fill("{playlist}/{episode}.{ext}");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Parallel downloads must be between 1 and 64").waitFor();
    await shot(page, `${scheme}-settings`);
    await page.getByText("Settings file").scrollIntoViewIfNeeded();
    await shot(page, `${scheme}-settings-end`);
    await context.close();
  }
}

{
  // the smallest window the shell allows
  const { page, context } = await open("light", "demo", { width: 880, height: 540 });
  await page.locator("tr[data-id]").first().waitFor();
  await page.keyboard.press("Control+a");
  await shot(page, "narrow-playlists");
  await page.keyboard.press("Control+2");
  await page.locator("tr.job", { hasText: "#13" }).click();
  await page.getByText("download-2").waitFor();
  await shot(page, "narrow-tasks");
  await context.close();
}

await browser.close();
server.close();
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`screenshots in ${out}`);
