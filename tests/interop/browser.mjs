// Browser test of Ronron's web interface in headless Chromium (playwright-core, no bundled
// browser). Spawned by the Rust test tests/api/browser.rs against a running instance:
//
//   node tests/interop/browser.mjs --base http://localhost:PORT --username admin \
//     --password SECRET --screenshots DIR --start 2030-03-12T13:00 --end 2030-03-12T14:00 \
//     --title "…" [--service "Nextcloud"] [--chromium /usr/bin/chromium]
//
// It signs in with the keyboard, composes a maintenance (checking the live preview), publishes
// it, and checks it on the host and status pages as an anonymous visitor. Along the way: the
// skip link takes the first Tab with a visible focus, no page logs a console error, and no
// request leaves the instance's origin. Saves host.png, host-mobile.png and compose.png.
// Prints one JSON line `{"ok":true,"admin_url":…}` on stdout and exits 0, or explains the
// failure on stderr and exits 1.

import { chromium } from "playwright-core";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: opts } = parseArgs({
  options: {
    base: { type: "string" },
    username: { type: "string" },
    password: { type: "string" },
    screenshots: { type: "string" },
    start: { type: "string" },
    end: { type: "string" },
    title: { type: "string" },
    service: { type: "string", default: "Nextcloud" },
    chromium: { type: "string", default: process.env.CHROMIUM_PATH || "/usr/bin/chromium" },
    timeout: { type: "string", default: "20" },
  },
});
for (const name of ["base", "username", "password", "screenshots", "start", "end", "title"]) {
  if (!opts[name]) fail(`--${name} is required`);
}
const base = opts.base.replace(/\/$/, "");
const timeout = Number(opts.timeout) * 1000;

function fail(message) {
  console.error(`browser test: ${message}`);
  process.exit(1);
}
function check(condition, message) {
  if (!condition) throw new Error(message);
}

// Everything a page asks for, and everything it complains about, across all pages.
const requests = [];
const consoleErrors = [];
function watch(context) {
  context.setDefaultTimeout(timeout);
  context.on("request", (request) => requests.push(request.url()));
  context.on("page", (page) => {
    page.on("console", (msg) => {
      if (msg.type() !== "error") return;
      const source = msg.location().url;
      consoleErrors.push(`${page.url()}: ${msg.text()}${source ? ` (${source})` : ""}`);
    });
    page.on("pageerror", (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
  });
  return context;
}

async function visible(locator, what) {
  try {
    await locator.first().waitFor({ state: "visible" });
  } catch {
    throw new Error(`${what} is not visible`);
  }
}

const browser = await chromium
  .launch({
    executablePath: opts.chromium,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  })
  .catch((e) => fail(`cannot launch ${opts.chromium}: ${e.message}`));

try {
  await mkdir(opts.screenshots, { recursive: true });
  const desktop = { viewport: { width: 1280, height: 900 }, locale: "en-GB" };

  // --- The admin: sign in, compose, publish.
  const admin = watch(await browser.newContext(desktop));
  const page = await admin.newPage();
  await page.goto(`${base}/admin/login`);

  // Keyboard: the first Tab lands on the skip link, which then shows with a focus ring.
  await page.keyboard.press("Tab");
  const focus = await page.evaluate(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return {
      isSkipLink: el.matches("a.skip[href='#main']"),
      focusVisible: el.matches(":focus-visible"),
      outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
      onScreen: box.width > 0 && box.height > 0 && box.left >= 0 && box.top >= 0 && box.right <= innerWidth,
      text: el.textContent.trim(),
    };
  });
  check(focus.isSkipLink, `the first Tab focuses "${focus.text}", not the skip link`);
  check(focus.focusVisible && focus.outline, "the skip link's focus is not visible (no :focus-visible outline)");
  check(focus.onScreen, "the focused skip link stays off screen");

  await page.locator("#username").fill(opts.username);
  await page.locator("#password").fill(opts.password);
  await Promise.all([page.waitForURL((url) => !url.pathname.endsWith("/login")), page.locator("#password").press("Enter")]);
  check(!(await page.locator("#login-error").count()), "login refused");

  await page.goto(`${base}/admin/compose?kind=maintenance`);
  await page.getByRole("checkbox", { name: opts.service }).check();
  await page.locator("#start").fill(opts.start);
  await page.locator("#end").fill(opts.end);
  await page.locator("#impact").selectOption("minor");
  // Typed key by key, as a person would: the preview follows (debounced, rendered by the server).
  await page.locator("#title").pressSequentially(opts.title, { delay: 10 });
  const preview = page.locator("#preview-content");
  await visible(preview.getByText(opts.title), "the typed title in the live preview");
  await page
    .locator("#body")
    .fill(
      "Passage à la version 29 : **les agendas restent accessibles**. " +
        "<script>alert('xss')</script><b onclick=\"alert(1)\">Merci</b> de votre patience.",
    );
  await visible(
    preview.locator("strong", { hasText: "les agendas restent accessibles" }),
    "the body's Markdown rendered in the live preview",
  );
  const unsafe = await preview.evaluate((el) => ({
    scripts: el.querySelectorAll("script").length,
    handlers: el.querySelectorAll("[onclick]").length,
  }));
  check(unsafe.scripts === 0 && unsafe.handlers === 0, `the preview is not sanitised: ${JSON.stringify(unsafe)}`);
  check((await page.locator("#preview-status").textContent()).trim() === "", "the preview reports a failure");
  // The text a host would really write, for the screenshot.
  await page.locator("#body").fill("Passage à la version 29 : **les agendas restent accessibles**, en lecture seule.");
  await visible(preview.getByText("en lecture seule"), "the edited body in the live preview");
  // From the top, unfocused: the preview column is sticky and would follow the scroll.
  await page.evaluate(() => {
    document.activeElement.blur();
    window.scrollTo(0, 0);
  });
  await page.screenshot({ path: join(opts.screenshots, "compose.png"), fullPage: true });

  await Promise.all([
    page.waitForURL(/\/admin\/bulletins\/[^/?]+\?done=published$/),
    page.getByRole("button", { name: /publish/i }).click(),
  ]);
  const adminUrl = page.url();

  // The service form's `pattern` compiles under Chromium's `v` flag (a bad one logs a console error).
  await page.goto(`${base}/admin/services`);
  const slug = page.locator("input[name='slug']");
  await visible(slug, "the new service's slug field");
  await slug.fill("Pads!");
  // Chromium ignores a pattern it cannot compile: "Pads!" would then pass.
  check(await slug.evaluate((el) => el.validity.patternMismatch), "the slug's pattern is ignored (invalid under the v flag)");
  await slug.fill("pads");
  check(await slug.evaluate((el) => el.checkValidity()), "the slug's pattern refuses a valid slug");

  // Grading several criteria in the one form publishes one label update listing each change.
  await page.goto(`${base}/admin/label`);
  check((await page.locator("form button[type='submit']", { hasText: /save the grades/i }).count()) === 1, "one Save for all criteria");
  await page.locator("select[name='transparent.incidents.grade']").selectOption("met");
  await page.locator("select[name='neutral.no-ads.grade']").selectOption("partial");
  await page.locator("select[name='transparent.finances.grade']").selectOption("met");
  await Promise.all([
    page.waitForURL(/\/admin\/bulletins\/[^/?]+\?done=published$/),
    page.getByRole("button", { name: /save the grades/i }).click(),
  ]);
  const changes = page.locator("section[aria-labelledby='published-title'] li");
  check((await changes.count()) === 3, `the label update lists ${await changes.count()} changes, not 3`);
  await visible(changes.getByText("partiellement respecté → respecté"), "the old → new grade in the label update");

  // Deleting it asks first, on a page that says what followers receive.
  await Promise.all([page.waitForURL(/\/delete\??$/), page.getByRole("button", { name: /delete/i }).click()]);
  await visible(page.getByRole("heading", { name: "Delete this bulletin?" }), "the delete confirmation");
  await visible(page.locator("#followers-receive"), "what followers will receive");
  await Promise.all([
    page.waitForURL(/\?done=deleted$/),
    page.getByRole("button", { name: "Yes, delete the bulletin" }).click(),
  ]);
  await admin.close();

  // A field error, in French, next to its field.
  const french = watch(await browser.newContext({ ...desktop, locale: "fr-FR" }));
  const fr = await french.newPage();
  await fr.goto(`${base}/admin/login`);
  await fr.locator("#username").fill(opts.username);
  await fr.locator("#password").fill(opts.password);
  await Promise.all([fr.waitForURL((url) => !url.pathname.endsWith("/login")), fr.locator("#password").press("Enter")]);
  await fr.goto(`${base}/admin/label`);
  await fr.locator("input[name='open.formats.evidence']").fill("notre-faq");
  await fr.locator("select[name='open.formats.grade']").selectOption("met");
  await fr.getByRole("button", { name: /enregistrer les évaluations/i }).click();
  await visible(
    fr.locator("[id='open.formats.evidence-error']").getByText("Indiquez l’adresse complète d’une page web"),
    "the evidence error in French next to its field",
  );
  // A refused form answers 422: Chromium logs that status, which is no script error.
  consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !e.includes("422")));
  await french.close();

  // --- A visitor: the host page (both addresses) and the status page.
  const visitor = watch(await browser.newContext(desktop));
  const host = await visitor.newPage();
  for (const path of ["/", "/u/bulletin"]) {
    await host.goto(`${base}${path}`);
    const upcoming = host.locator("section[aria-labelledby='alerts']");
    await visible(upcoming.getByText(opts.title), `the maintenance in "now and upcoming" on ${path}`);
  }
  await visible(host.locator("section[aria-labelledby='services'] .badge"), "the services' status badges");
  await host.screenshot({ path: join(opts.screenshots, "host.png"), fullPage: true });

  await host.goto(`${base}/status`);
  await visible(
    host.locator("section[aria-labelledby='calendar']").getByText(opts.title),
    "the maintenance in the status page's calendar",
  );
  await visitor.close();

  const phone = watch(await browser.newContext({ ...desktop, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }));
  const mobile = await phone.newPage();
  await mobile.goto(`${base}/u/bulletin`);
  const overflow = await mobile.evaluate(() => document.documentElement.scrollWidth - innerWidth);
  check(overflow <= 0, `the host page is ${overflow}px wider than a 390px phone screen`);
  await mobile.screenshot({ path: join(opts.screenshots, "host-mobile.png"), fullPage: true });
  await phone.close();

  // --- What every page did along the way.
  check(consoleErrors.length === 0, `console errors:\n  ${consoleErrors.join("\n  ")}`);
  const foreign = requests.filter((url) => !url.startsWith(`${base}/`));
  check(foreign.length === 0, `requests outside ${base}:\n  ${[...new Set(foreign)].join("\n  ")}`);

  console.log(JSON.stringify({ ok: true, admin_url: adminUrl, requests: requests.length }));
} catch (error) {
  console.error(`browser test: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
