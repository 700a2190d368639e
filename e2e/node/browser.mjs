// browser.mjs drives Debian's Chromium with playwright-core through a list of
// steps, the way a person would, and prints one JSON result on stdout.
//
//   node browser.mjs <job.json>
//
// job.json (written by e2e/harness/browser.go):
//   { "chromium": "/usr/bin/chromium", "home": "<HOME with an NSS db trusting Pebble's root>",
//     "screenshot": "<png path written on failure>", "timeoutMs": 20000,
//     "steps": [ { "goto": "https://…" }, { "login": { "username", "password", "otp" } },
//                { "waitURL": "https://…" }, { "reload": 3 }, { "sleepMs": 2000 } ] }
//
// Result: { "ok": true|false, "error": "…", "steps": [ { "url", "status", "text" } ],
//           "cookies": [ { "name", "domain", "value" } ] }
// Every step records the page's URL, the HTTP status of its last navigation
// and the page text. Chromium gets the flags it needs on a closed network and
// maps every host name to 127.0.0.1; it trusts Pebble's root through the NSS
// database in job.home, not by ignoring certificate errors.
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const timeout = job.timeoutMs || 20000;

const flags = [
  '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic',
  '--host-resolver-rules=MAP * 127.0.0.1',
];

async function record(page, response) {
  const text = await page.evaluate(() => document.body ? document.body.innerText : '').catch(() => '');
  return { url: page.url(), status: response ? response.status() : 0, text: text.slice(0, 8000) };
}

async function submit(page, button) {
  const [response] = await Promise.all([page.waitForNavigation({ timeout }), page.click(button)]);
  await page.waitForLoadState('load', { timeout });
  return response;
}

async function login(page, { username, password, otp }) {
  await page.waitForSelector('#username', { timeout });
  await page.fill('#username', username);
  await page.fill('#password', password);
  let response = await submit(page, '#submit');
  if (await page.$('#otp')) {
    await page.fill('#otp', otp || '');
    response = await submit(page, '#verify');
  }
  return record(page, response);
}

// Chromium loads the NSS database (where Pebble's root is trusted) in the
// background at startup; a navigation in the first moments can be checked
// before it is loaded. Retry a few times: an untrusted root still fails.
async function goto(page, url) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await page.goto(url, { timeout });
    } catch (err) {
      if (attempt >= 5 || !String(err.message).includes('ERR_CERT_AUTHORITY_INVALID')) throw err;
      await new Promise((resolve) => { setTimeout(resolve, 500); });
    }
  }
}

async function runStep(page, step) {
  if (step.goto) return record(page, await goto(page, step.goto));
  if (step.login) return login(page, step.login);
  if (step.waitURL) {
    await page.waitForURL((u) => u.href.startsWith(step.waitURL), { timeout });
    await page.waitForLoadState('load', { timeout });
    return record(page, null);
  }
  if (step.sleepMs) {
    await new Promise((resolve) => { setTimeout(resolve, step.sleepMs); });
    return record(page, null);
  }
  if (step.reload) {
    let last;
    for (let i = 0; i < step.reload; i += 1) last = await record(page, await page.reload({ timeout }));
    return last;
  }
  throw new Error(`unknown step ${JSON.stringify(step)}`);
}

async function main() {
  const browser = await chromium.launch({
    executablePath: job.chromium, headless: true, args: flags, env: { ...process.env, HOME: job.home }, timeout,
  });
  const result = { ok: true, steps: [], cookies: [] };
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    for (const step of job.steps) result.steps.push(await runStep(page, step));
  } catch (err) {
    result.ok = false;
    result.error = `${err.message.split('\n')[0]} (at ${page.url()})`;
    if (job.screenshot) await page.screenshot({ path: job.screenshot, fullPage: true }).catch(() => {});
  }
  result.cookies = (await context.cookies()).map(({ name, domain, value }) => ({ name, domain, value }));
  await browser.close();
  return result;
}

main().then((result) => {
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(result.ok ? 0 : 1);
}, (err) => {
  process.stdout.write(`${JSON.stringify({ ok: false, error: err.message, steps: [], cookies: [] })}\n`);
  process.exit(1);
});
