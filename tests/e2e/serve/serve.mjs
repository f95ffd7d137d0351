// End to end in a real browser against `catalog-sync serve` (run through run.sh, which starts
// the server and the testkit loopback server). Headless Chromium, driven by playwright-core:
// logs in with the token (the login URL's #token=), adds an OPML list by URL, selects two
// playlists, runs "Sync then download", sees the speed in the task center, opens a second
// browser context mid-job that sees the same live state, pauses and resumes the job, waits
// for it to finish and checks the files on disk. A third context without the token gets the
// login form and logs in through it. Screenshots go to ARTIFACTS.
//
// Environment: LOGIN_URL, OPML, LIBRARY, ARTIFACTS, CHROMIUM, EXPECTED_FILES.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../../../ui/package.json"));
const { chromium } = require("playwright-core");

const { LOGIN_URL, OPML, LIBRARY, ARTIFACTS, CHROMIUM } = process.env;
const EXPECTED_FILES = Number(process.env.EXPECTED_FILES ?? "6");
const WAIT = 120_000;
const origin = new URL(LOGIN_URL).origin;
const token = new URL(LOGIN_URL).hash.replace(/^#token=/, "");

function filesIn(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true }).map((f) => path.join(dir, String(f))).filter((f) => f.endsWith(".mp3"));
}

async function shot(page, name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  console.log(`screenshot ${file}`);
}

const jobRow = (page) => page.locator("tr.job").first();

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  try {
    const a = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    a.setDefaultTimeout(WAIT);
    // log in with the token in the URL's fragment; the fragment leaves the address bar
    await a.goto(LOGIN_URL);
    const urlBox = a.getByLabel("Feed or playlist URL");
    await urlBox.waitFor();
    if (a.url().includes("token=")) throw new Error(`the token stayed in the address bar: ${a.url()}`);
    const cookies = await a.context().cookies();
    const session = cookies.find((c) => c.name === "catalog_sync_session");
    if (!session || !session.httpOnly || session.sameSite !== "Strict") throw new Error(`bad session cookie: ${JSON.stringify(cookies)}`);
    await shot(a, "1-playlists-empty");

    // add the OPML list by URL, select two playlists, sync then download
    await urlBox.fill(OPML);
    await urlBox.press("Enter");
    const rows = a.locator('input[aria-label^="Select "]:not([aria-label^="Select all"])');
    await rows.nth(1).waitFor();
    const count = await rows.count();
    if (count < 2) throw new Error(`expected the OPML's playlists, got ${count}`);
    await rows.nth(0).click();
    await rows.nth(1).click();
    await shot(a, "2-playlists-selected");
    await a.getByRole("button", { name: "Sync then download", exact: true }).click();

    // the task center: running, with a speed
    await a.keyboard.press("Control+2");
    await a.getByText("Running", { exact: false }).first().waitFor();
    const speedCell = jobRow(a).locator("td.num").first();
    await a.waitForFunction((el) => /B\/s/.test(el.textContent ?? ""), await speedCell.elementHandle(), { timeout: WAIT });
    console.log(`speed shown: ${JSON.stringify(await speedCell.textContent())}`);
    const pause = a.locator("button[aria-label^='Pause job']").first();
    await pause.waitFor();
    await shot(a, "3-task-center-running");

    // a second browser context mid-job sees the same live state
    const b = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    b.setDefaultTimeout(WAIT);
    await b.goto(LOGIN_URL);
    await b.getByLabel("Feed or playlist URL").waitFor();
    await b.keyboard.press("Control+2");
    const jobLabel = await a.locator("button[aria-label^='Pause job']").first().getAttribute("aria-label");
    await b.locator(`button[aria-label="${jobLabel}"]`).waitFor();
    await b.waitForFunction(() => /B\/s/.test(document.querySelector("tr.job td.num")?.textContent ?? ""), null, { timeout: WAIT });
    await shot(b, "4-second-window-running");

    // pause (seen by both windows), resume, finish
    await pause.click();
    await a.locator("button[aria-label^='Resume job']").first().waitFor();
    await b.locator("button[aria-label^='Resume job']").first().waitFor();
    const pausedFiles = filesIn(LIBRARY).length;
    await shot(a, "5-task-center-paused");
    await a.locator("button[aria-label^='Resume job']").first().click();
    await a.waitForFunction(() => {
      const t = document.body.innerText;
      return t.includes("Done") && !t.includes("Running");
    }, null, { timeout: WAIT });
    await jobRow(a).click();
    await a.waitForTimeout(500);
    await shot(a, "6-task-center-done");
    await shot(b, "7-second-window-done");
    await a.keyboard.press("Control+1");
    await a.waitForTimeout(500);
    await shot(a, "8-playlists-after");
    await a.keyboard.press("Control+3");
    await a.waitForTimeout(500);
    await shot(a, "9-settings");

    // without the token: the login form, then the app
    const c = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    c.setDefaultTimeout(WAIT);
    await c.goto(origin + "/");
    const tokenBox = c.getByLabel("Access token");
    await tokenBox.waitFor();
    await shot(c, "10-login-form");
    await tokenBox.fill("wrong-token");
    await c.getByRole("button", { name: "Log in" }).click();
    await c.getByRole("alert").waitFor();
    await tokenBox.fill(token);
    await c.getByRole("button", { name: "Log in" }).click();
    await c.getByLabel("Feed or playlist URL").waitFor();

    const files = filesIn(LIBRARY);
    console.log(`${files.length} files in the library (${pausedFiles} when paused)`);
    if (files.length !== EXPECTED_FILES) throw new Error(`expected ${EXPECTED_FILES} media files in ${LIBRARY}, found ${files.length}`);
    if (!files.every((f) => fs.statSync(f).size > 0)) throw new Error("an empty media file");
    console.log("e2e serve: ok");
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(`e2e serve: FAILED: ${e.stack ?? e}`);
  process.exit(1);
});
