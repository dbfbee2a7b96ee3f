// Drives the war room in headless Chromium, as the team would during an
// incident: two members approve a quorum-gated pause, the pause is mined,
// an announcement is drafted, approved and published, and the public status
// page shows it. Screenshots go to $ARTIFACTS. Run by the Rust test
// `anvil_browser_war_room_*` (bin/firebreak/tests/it/war_room.rs), which
// starts anvil, the exploit and `firebreak run`.
'use strict';
const { chromium } = require(process.env.PLAYWRIGHT_CORE);

const base = process.env.BASE;
const id = process.env.INCIDENT;
const out = process.env.ARTIFACTS;
const message = process.env.MESSAGE;
const tokens = { alice: process.env.TOKEN_ALICE, bob: process.env.TOKEN_BOB };

function log(text) {
  console.log(`browser: ${text}`);
}

async function login(page, who) {
  await page.goto(`${base}/login?next=/incidents/${id}`);
  await page.fill('#token', tokens[who]);
  await Promise.all([page.waitForURL(`${base}/incidents/${id}`), page.click('#login')]);
  const shown = (await page.textContent('#who')).trim();
  if (shown !== who) throw new Error(`signed in as ${shown}, expected ${who}`);
  log(`signed in as ${who}`);
}

async function logout(page) {
  await Promise.all([page.waitForURL(/\/login$/), page.click('#logout')]);
}

async function flash(page, text) {
  await page.waitForFunction((t) => document.querySelector('#flash')?.textContent.includes(t), text);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.setDefaultTimeout(30000);
  try {
    await login(page, 'alice');
    await page.click('#approve-pause-1');
    await page.waitForFunction(() => document.querySelector('#step-pause-1')?.textContent.includes('1 of 2'));
    // the same member approving again does not count twice
    await page.click('#approve-pause-1');
    await flash(page, 'each member counts once');
    await page.waitForFunction(() => document.querySelector('#step-pause-1 .badge')?.textContent === 'awaiting_approval');
    await page.screenshot({ path: `${out}/incident-awaiting-approval.png`, fullPage: true });
    log('alice approved; 1 of 2, and her second click was refused');
    await logout(page);

    await login(page, 'bob');
    await page.click('#approve-pause-1');
    await page.waitForFunction(() => document.querySelector('#timeline')?.textContent.includes('tx_mined'), null, { timeout: 60000 });
    await page.waitForFunction(() => document.querySelector('#step-pause-1 .badge')?.textContent === 'succeeded');
    await page.screenshot({ path: `${out}/incident.png`, fullPage: true });
    log('bob approved; the pause is mined on the timeline');
    await logout(page);

    await login(page, 'alice');
    await page.selectOption('#announce-status', 'identified');
    await page.check('input[name=components][value=vault]');
    await page.fill('#announce-message', message);
    await page.click('#announce-draft');
    await flash(page, 'draft saved');
    // four eyes: the author cannot approve her own announcement
    await page.click('[id^=announcement-approve-]');
    await flash(page, 'another member with an announce role approves it');
    await logout(page);

    await login(page, 'bob');
    await page.click('[id^=announcement-approve-]');
    await page.waitForSelector('[id^=announcement-publish-]');
    await logout(page);

    await login(page, 'alice');
    await page.click('[id^=announcement-publish-]');
    await page.waitForFunction(() => document.querySelector('#announcements')?.textContent.includes('published'));
    log('announcement drafted by alice, refused to her, approved by bob, published by alice');

    await page.goto(`${base}/status`);
    await page.waitForFunction((m) => document.querySelector('#updates')?.textContent.includes(m), message);
    const overall = (await page.textContent('#overall')).trim();
    if (overall !== 'We are responding to an incident') throw new Error(`status page says: ${overall}`);
    await page.screenshot({ path: `${out}/status.png`, fullPage: true });
    log('the status page shows the announcement');
  } catch (e) {
    await page.screenshot({ path: `${out}/failure.png`, fullPage: true }).catch(() => {});
    console.error(`browser: FAILED at ${page.url()}: ${e.stack || e}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})();
