// The chat page in a real browser: Debian's chromium driven by playwright-core opens the page of
// `sio-server --app chat` twice, both join one room, and they exchange messages both ways —
// over websocket (the client's default: polling, then the upgrade) and over polling only
// (?transports=polling). Skipped if /usr/bin/chromium is missing (scripts/setup installs it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { setup, IS_REF } from '../lib/eio.mjs';
import { REPO_ROOT } from '../lib/server.mjs';

const CHROMIUM = '/usr/bin/chromium';
const skip = (IS_REF && 'there is no Node reference of the chat app')
  || (!existsSync(CHROMIUM) && `${CHROMIUM} is missing (apt-get install chromium, or run scripts/setup)`);
const BUNDLE = path.join(REPO_ROOT, 'tests/e2e/node_modules/socket.io-client/dist/socket.io.min.js');
const WAIT = { timeout: 10_000 };

let browser;
before(async () => {
  if (skip) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
  });
});
after(() => browser && browser.close());

/** Opens the page in a fresh browser context and joins `room` as `name`. */
async function open(t, url, name, room, transport) {
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.errors = errors;
  await page.goto(url);
  await page.locator('#status', { hasText: `connected (${transport})` }).waitFor(WAIT);
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.click('#join-button');
  // the title shows once the server has acknowledged the join
  await page.locator('#room-title', { hasText: `#${room} as ${name}` }).waitFor(WAIT);
  return page;
}

async function send(page, text) {
  await page.fill('#text', text);
  await page.click('#send-button');
}

const seen = (page, user, text) =>
  page.locator('#messages li', { hasText: text }).filter({ hasText: user }).waitFor(WAIT);

for (const [mode, query, transport] of [
  ['websocket', '', 'websocket'],
  ['polling', '?transports=polling', 'polling'],
]) {
  test(`[${mode}] two pages in one room exchange messages both ways`, { skip, timeout: 60_000 }, async (t) => {
    const ctx = await setup(t, [], { app: 'chat', env: { SIO_CLIENT_JS: BUNDLE } });
    const url = `${ctx.srv.url}/${query}`;
    const alice = await open(t, url, 'alice', 'garden', transport);
    const bob = await open(t, url, 'bob', 'garden', transport);

    await send(alice, 'hello bob <b>not bold</b>');
    await seen(bob, 'alice', 'hello bob <b>not bold</b>');
    await seen(alice, 'alice', 'hello bob <b>not bold</b>');
    assert.equal(await bob.locator('#messages b').count(), 0, 'text is shown as text, not HTML');

    await send(bob, 'hi alice \u2713');
    await seen(alice, 'bob', 'hi alice \u2713');
    await seen(bob, 'bob', 'hi alice \u2713');

    for (const page of [alice, bob]) {
      assert.equal(await page.locator('#messages li').count(), 2);
      assert.match(await page.textContent('#status'), new RegExp(`connected \\(${transport}\\)`));
      assert.deepEqual(page.errors, []);
    }
  });
}
