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
// request leaves the instance's origin. Then it reads: the bulletin page's h1, the 404 page in
// the site's frame and in English for an English visitor, the admin area aligned with the header,
// no page wider than a 360 px phone, and an axe-core pass with no violation over every public
// page and the main admin pages; the logo uploaded from the profile page shows on the host page. Saves host.png, host-mobile.png and compose.png.
// Prints one JSON line `{"ok":true,"admin_url":…}` on stdout and exits 0, or explains the
// failure on stderr and exits 1.

import { chromium } from "playwright-core";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
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
    logo: { type: "string" },
    chromium: { type: "string", default: process.env.CHROMIUM_PATH || "/usr/bin/chromium" },
    timeout: { type: "string", default: "20" },
  },
});
for (const name of ["base", "username", "password", "screenshots", "start", "end", "title", "logo"]) {
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

  // Grading every criterion in the one form publishes one label update listing each change.
  await page.goto(`${base}/admin/bulletins`);
  const listedBefore = await page.locator("main table tbody tr").count();
  await page.goto(`${base}/admin/label`);
  check((await page.locator("form button[type='submit']", { hasText: /save the grades/i }).count()) === 1, "one Save for all criteria");
  const gradeSelects = page.locator("select[name$='.grade']");
  const criteria = await gradeSelects.count();
  check(criteria >= 17, `the grading form has ${criteria} criteria, not the charter's 17 or more`);
  const before = await gradeSelects.evaluateAll((all) => all.map((s) => s.value));
  // Every criterion graded: met, partial, not met in turn, and the seed's partial one met.
  for (let i = 0; i < criteria; i++) await gradeSelects.nth(i).selectOption(["met", "partial", "not_met"][i % 3]);
  await page.locator("select[name='transparent.finances.grade']").selectOption("met");
  const after = await gradeSelects.evaluateAll((all) => all.map((s) => s.value));
  const changed = after.filter((grade, i) => grade !== before[i]).length;
  await Promise.all([
    page.waitForURL(/\/admin\/bulletins\/[^/?]+\?done=published$/),
    page.getByRole("button", { name: /save the grades/i }).click(),
  ]);
  const changes = page.locator("section[aria-labelledby='published-title'] li");
  check((await changes.count()) === changed, `the label update lists ${await changes.count()} changes, not ${changed}`);
  await visible(changes.getByText("partiellement respecté → respecté").first(), "the old → new grade in the label update");
  const labelUrl = page.url();
  await page.goto(`${base}/admin/bulletins`);
  const listedAfter = await page.locator("main table tbody tr").count();
  check(listedAfter === listedBefore + 1, `grading ${criteria} criteria published ${listedAfter - listedBefore} bulletins, not one`);
  await page.goto(labelUrl);

  // Deleting it asks first, on a page that says what followers receive.
  await Promise.all([page.waitForURL(/\/delete\??$/), page.getByRole("button", { name: /delete/i }).click()]);
  await visible(page.getByRole("heading", { name: "Delete this bulletin?" }), "the delete confirmation");
  await visible(page.locator("#followers-receive"), "what followers will receive");
  await Promise.all([
    page.waitForURL(/\?done=deleted$/),
    page.getByRole("button", { name: "Yes, delete the bulletin" }).click(),
  ]);

  // The logo (issue 12): uploaded from the profile page, served by the host, shown at once.
  await page.goto(`${base}/admin/profile`);
  await page.locator("#logo").setInputFiles(opts.logo);
  await Promise.all([
    page.waitForURL(/\/admin\/profile\?done=saved$/),
    page.getByRole("button", { name: "Upload the logo" }).click(),
  ]);
  const logoPreview = page.locator(".logo-current img");
  await visible(logoPreview, "the uploaded logo on the profile page");
  check(
    await logoPreview.evaluate((img) => img.complete && img.naturalWidth > 0 && new URL(img.src).pathname.startsWith("/media/")),
    "the uploaded logo is served by the host and loads",
  );
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
  // The logo loads: no broken-image box (issue 12), and it is the host's own file.
  const logo = host.locator("section.profile img");
  await visible(logo, "the logo on the host page");
  check(
    await logo.evaluate((img) => img.complete && img.naturalWidth > 0 && img.src.startsWith(location.origin + "/media/")),
    "the host page's logo loads from the host",
  );
  await host.screenshot({ path: join(opts.screenshots, "host.png"), fullPage: true });

  await host.goto(`${base}/status`);
  // The incident's timeline: each follow-up's own text, newest first, then the first post's.
  const thread = host.locator("section[aria-labelledby='incidents'] ol.thread").first();
  const texts = await thread.locator(".update-text").allInnerTexts();
  const expected = [
    "Space is freed; we are watching response times.",
    "A nearly full disk; we are freeing space.",
    "Pads have been slow since this morning; we are looking into it.",
  ];
  check(
    expected.every((text, i) => (texts[i] || "").includes(text)),
    `the incident's timeline shows ${JSON.stringify(texts)}, not each follow-up's text newest first`,
  );
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

  // --- Reading (issue 12): the bulletin page, the error pages, a 360 px phone, the admin's width.
  const bulletinId = new URL(adminUrl).pathname.split("/").pop();
  const reader = watch(await browser.newContext(desktop));
  const read = await reader.newPage();
  await read.goto(`${base}/b/${bulletinId}`);
  const article = await read.evaluate(() => {
    const a = document.querySelector("article.bulletin");
    const h1 = a && a.querySelector("h1");
    const meta = a && a.querySelector(".meta");
    return {
      h1: h1 ? h1.textContent.trim() : null,
      h1First: !!(h1 && meta && h1.compareDocumentPosition(meta) & Node.DOCUMENT_POSITION_FOLLOWING),
      selfLinks: a ? [...a.querySelectorAll("a")].filter((l) => l.href.split("?")[0] === location.href.split("?")[0]).length : -1,
      h1s: document.querySelectorAll("h1").length,
    };
  });
  check(article.h1 === opts.title, `the bulletin page's h1 is "${article.h1}", not the title`);
  check(article.h1First, "the bulletin page's metadata does not come after its h1");
  check(article.h1s === 1, `the bulletin page has ${article.h1s} h1`);
  check(article.selfLinks === 0, "the bulletin page links to itself");
  for (const [path, status, words] of [
    ["/no/such/page", 404, "This page does not exist."],
    ["/b/no-such-bulletin", 404, "This page does not exist."],
  ]) {
    const response = await read.goto(`${base}${path}`);
    check(response.status() === status, `${path} answers ${response.status()}, not ${status}`);
    const shown = await read.evaluate(() => ({
      framed: !!document.querySelector("header.site nav") && !!document.querySelector("footer.site"),
      lang: document.documentElement.lang,
      h1: document.querySelector("h1")?.textContent.trim(),
      french: document.body.textContent.includes("n’existe pas"),
    }));
    check(shown.framed, `${path}: the error page is not in the site's frame`);
    check(shown.lang === "en" && shown.h1 === words && !shown.french, `${path}: not in English only: ${JSON.stringify(shown)}`);
  }
  // Chromium logs the 404 status of a page it was asked for: no script error.
  consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !e.includes("404")));
  await reader.close();

  // At 1400 px, the admin area lines up with the header, the wide compose page included.
  const wide = watch(await browser.newContext({ ...desktop, viewport: { width: 1400, height: 900 } }));
  const wideAdmin = await wide.newPage();
  await wideAdmin.goto(`${base}/admin/login`);
  await wideAdmin.locator("#username").fill(opts.username);
  await wideAdmin.locator("#password").fill(opts.password);
  await Promise.all([wideAdmin.waitForURL((url) => !url.pathname.endsWith("/login")), wideAdmin.locator("#password").press("Enter")]);
  for (const path of ["/admin", "/admin/compose", "/admin/bulletins"]) {
    await wideAdmin.goto(`${base}${path}`);
    const edges = await wideAdmin.evaluate(() => {
      const bar = document.querySelector("header.site .bar").getBoundingClientRect();
      const main = document.querySelector("main").getBoundingClientRect();
      return { bar: [Math.round(bar.left), Math.round(bar.right)], main: [Math.round(main.left), Math.round(main.right)] };
    });
    check(
      edges.bar[0] === edges.main[0] && edges.bar[1] === edges.main[1],
      `${path}: the admin area (${edges.main}) is not aligned with the header (${edges.bar})`,
    );
  }
  await wide.close();

  // A 360 px phone: no page scrolls sideways; the services table stacks into cards.
  const small = watch(await browser.newContext({ ...desktop, viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true }));
  const tiny = await small.newPage();
  const fits = async (path) => {
    await tiny.goto(`${base}${path}`);
    const width = await tiny.evaluate(() => document.documentElement.scrollWidth);
    check(width <= 360, `${path} is ${width}px wide on a 360px phone`);
  };
  for (const path of ["/", "/status", "/timeline", "/directory", `/b/${bulletinId}`, "/no/such/page"]) await fits(path);
  await tiny.goto(`${base}/status`);
  const cells = await tiny.evaluate(() =>
    [...document.querySelectorAll("table.cards td")].map((td) => {
      const box = td.getBoundingClientRect();
      return { label: td.dataset.label || "", right: box.right, display: getComputedStyle(td).display };
    }),
  );
  check(cells.length > 0, "the status page has no services table in cards");
  check(cells.every((c) => c.display === "block" && c.right <= 360), "a services cell is cut on a 360px phone");
  check(cells.every((c) => c.label !== ""), "a services cell does not name its column");
  await tiny.goto(`${base}/admin/login`);
  await tiny.locator("#username").fill(opts.username);
  await tiny.locator("#password").fill(opts.password);
  await Promise.all([tiny.waitForURL((url) => !url.pathname.endsWith("/login")), tiny.locator("#password").press("Enter")]);
  for (const path of ["/admin", "/admin/compose", "/admin/bulletins", "/admin/services", "/admin/label", "/admin/followers", "/admin/profile"]) {
    await fits(path);
  }
  // Typed text in the forms is not bold.
  const weights = await tiny.evaluate(() => [...document.querySelectorAll("input:not([type=hidden]), select, textarea")].map((el) => getComputedStyle(el).fontWeight));
  check(weights.every((w) => w === "400"), `form inputs are bold: ${weights}`);
  consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !e.includes("404")));
  await small.close();

  // axe-core (pinned in package.json) on every public page and the main admin pages: no violation.
  // The pages' CSP allows no inline script, so this context alone bypasses it to inject axe.
  const audit = watch(await browser.newContext({ ...desktop, bypassCSP: true }));
  const auditPage = await audit.newPage();
  const axePath = join(dirname(fileURLToPath(import.meta.url)), "node_modules/axe-core/axe.min.js");
  const violations = [];
  let audited = 0;
  const axe = async (path) => {
    await auditPage.goto(`${base}${path}`);
    await auditPage.addScriptTag({ path: axePath });
    const found = await auditPage.evaluate(async () => {
      const result = await window.axe.run(document, { resultTypes: ["violations"] });
      return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
    });
    audited += 1;
    for (const v of found) violations.push(`${path}: ${v}`);
  };
  for (const path of ["/", "/u/bulletin", "/status", "/timeline", "/directory", `/b/${bulletinId}`, "/tags/nextcloud", "/no/such/page"]) {
    await axe(path);
  }
  await auditPage.goto(`${base}/admin/login`);
  await axe("/admin/login");
  await auditPage.locator("#username").fill(opts.username);
  await auditPage.locator("#password").fill(opts.password);
  await Promise.all([auditPage.waitForURL((url) => !url.pathname.endsWith("/login")), auditPage.locator("#password").press("Enter")]);
  for (const path of [
    "/admin",
    "/admin/compose",
    "/admin/bulletins",
    `/admin/bulletins/${bulletinId}`,
    "/admin/services",
    "/admin/label",
    "/admin/profile",
    "/admin/followers",
    "/admin/peers",
    "/admin/deliveries",
    "/admin/tokens",
    "/admin/subscribers",
  ]) {
    await axe(path);
  }
  consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !e.includes("404")));
  await audit.close();
  check(violations.length === 0, `axe-core found ${violations.length} violations:\n  ${violations.join("\n  ")}`);

  // --- What every page did along the way.
  check(consoleErrors.length === 0, `console errors:\n  ${consoleErrors.join("\n  ")}`);
  const foreign = requests.filter((url) => !url.startsWith(`${base}/`));
  check(foreign.length === 0, `requests outside ${base}:\n  ${[...new Set(foreign)].join("\n  ")}`);

  console.log(JSON.stringify({ ok: true, admin_url: adminUrl, requests: requests.length, audited }));
} catch (error) {
  console.error(`browser test: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
