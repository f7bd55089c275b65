import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import axe from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Invitation } from '#src/tenancy/entities/invitation.entity.js';
import { WorkspaceMember } from '#src/tenancy/entities/workspace.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { freePort } from '../support/listen.js';
import { SmtpCapture } from '../support/smtp.js';
import { sessionsOf, userByEmail, userWithPasswordHash } from '../factories/auth.js';
import { makeUser, uniqueEmail, type MadeUser } from '../factories/users.js';
import { createWorkspace } from '../factories/workspaces.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(process.cwd(), 'docs', 'screenshots');
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';
const skip =
  process.env.TEST_SKIP_BROWSER === '1'
    ? existsSync(CHROMIUM)
      ? 'TEST_SKIP_BROWSER=1'
      : `TEST_SKIP_BROWSER=1 and ${CHROMIUM} is missing (apt-get install -y chromium)`
    : false;

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const PASSWORD = 'a sturdy invitation passphrase';

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * An invited person in real Chromium: a workspace admin invites by email through the API, the
 * person opens the mailed /invite link, sets a password, accepts and signs in; a known person
 * declines. Every page state checked with axe-core at desktop and phone widths.
 */
describe('invitation page in Chromium, with axe-core', { skip }, () => {
  const smtp = new SmtpCapture();
  let t: TestApp;
  let base = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let admin: MadeUser;
  let ws: { id: string; domain: string; title: string };
  const checked: string[] = [];

  before(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `${CHROMIUM} is missing: install it (apt-get install -y chromium), or set TEST_SKIP_BROWSER=1 to skip this test`,
      );
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const smtpUrl = await smtp.start();
    t = await createTestApp({ PUBLIC_URL: base, SMTP_URL: smtpUrl, INVITATION_DAYS: '7' });
    await t.app.listen(port, '127.0.0.1');
    admin = await makeUser(t);
    ws = await createWorkspace(t, admin.auth);
    if (UPDATE_SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    context = await browser.newContext({ viewport: DESKTOP });
    page = await context.newPage();
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await t?.close();
    await smtp.stop();
  });

  /** axe-core on the page as it is, at both widths; a screenshot of each when asked. */
  async function check(name: string): Promise<void> {
    for (const [width, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      await page.setViewportSize(viewport);
      // Strings run in the page (this project compiles without the DOM library).
      const hasAxe = await page.evaluate<boolean>("typeof window.axe === 'object'");
      if (!hasAxe) await page.evaluate(axe.source);
      const violations = await page.evaluate<AxeViolation[]>(
        `axe.run(document).then((r) => r.violations.map((v) => ({
          id: v.id, impact: v.impact, help: v.help,
          nodes: v.nodes.map((n) => ({ target: n.target })),
        })))`,
      );
      const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(bad, [], `${name} at ${width}: ${JSON.stringify(bad, null, 1)}`);
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      assert.ok(overflow <= 0, `${name} at ${width} scrolls sideways by ${overflow}px`);
      if (UPDATE_SCREENSHOTS)
        await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true });
    }
    await page.setViewportSize(DESKTOP);
    checked.push(name);
  }

  /** The admin invites one email through the API; returns the invitation id and the mailed link. */
  async function invite(email: string, role: string): Promise<{ id: string; link: string }> {
    const res = await t.http
      .post(`/api/v1/workspaces/${ws.domain}/invitations`)
      .set(admin.auth)
      .send({ emails: [email], role });
    assert.equal(res.status, 201, res.text);
    const item = (res.body as { items: { status: number; id: string }[] }).items[0];
    assert.equal(item?.status, 201);
    const mail = await smtp.waitFor(email, /Invitation to the Gatehouse workspace/);
    const link = mail.text
      .match(/https?:\/\/\S+/g)
      ?.find((u) => u.startsWith(`${base}/invite?token=`));
    assert.ok(link, `an /invite link in: ${mail.text}`);
    return { id: item.id, link };
  }
  const invitation = (id: string) => t.db.getRepository(Invitation).findOneByOrFail({ id });
  const member = (userId: string) =>
    t.db.getRepository(WorkspaceMember).findOneBy({ workspaceId: ws.id, userId });

  it('a new person accepts from the mailed link with a password, then signs in', async () => {
    const email = uniqueEmail('invitee');
    const { id, link } = await invite(email, 'reader');

    const opened = await page.goto(link);
    assert.equal(opened?.status(), 200);
    await page.getByRole('heading', { name: `Join ${ws.title}` }).waitFor();
    assert.equal(await page.getByLabel('Email').inputValue(), email);
    await check('invite');
    // Opening the link spent nothing and made no account.
    assert.equal((await invitation(id)).status, 'pending');
    assert.equal(await userByEmail(t, email), null);

    // Too short: the message at the field, nothing written.
    await page.getByLabel('Choose a password').fill('short');
    await page.getByRole('button', { name: 'Accept and create my password' }).click();
    await page.waitForSelector('#password-error');
    assert.match((await page.textContent('#password-error')) ?? '', /at least 12 characters/);
    assert.equal(await page.getByLabel('Choose a password').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Choose a password').inputValue(), '');
    await check('invite-password-error');
    assert.equal(await userByEmail(t, email), null);
    assert.equal((await invitation(id)).status, 'pending');

    await page.getByLabel('Choose a password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Accept and create my password' }).click();
    await page.getByRole('heading', { name: `You joined ${ws.title}` }).waitFor();
    await check('invite-accepted');

    const user = await userByEmail(t, email);
    assert.ok(user);
    assert.equal(user.status, 'active');
    assert.equal(user.emailVerified, true);
    assert.ok((await userWithPasswordHash(t, user.id)).passwordHash);
    assert.equal((await member(user.id))?.role, 'reader');
    const spent = await invitation(id);
    assert.equal(spent.status, 'accepted');
    assert.equal(spent.decidedBy, user.id);

    // Sign in with the new password; no returnTo: `/` sends a reader to their account page.
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/signin`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${base}/account`);
    assert.equal((await sessionsOf(t, user.id)).length, 1);

    // The link again: used (410), and nothing changes.
    const again = await page.goto(link);
    assert.equal(again?.status(), 410);
    await page.getByRole('heading', { name: 'Invitation already used' }).waitFor();
    await check('invite-link-used');
    assert.equal((await invitation(id)).status, 'accepted');
    assert.equal((await member(user.id))?.role, 'reader');
  });

  it('a known person declines from the mailed link without signing in', async () => {
    await context.clearCookies();
    const known = await makeUser(t, { signIn: false });
    const { id, link } = await invite(known.email, 'user');

    await page.goto(link);
    await page.getByRole('heading', { name: `Join ${ws.title}` }).waitFor();
    // An account with a password: accepting asks to sign in, no password field here.
    await page.getByRole('link', { name: `Sign in as ${known.email}` }).waitFor();
    assert.equal(await page.locator('#password').count(), 0);
    await check('invite-known');

    await page.getByRole('button', { name: 'Decline' }).click();
    await page.getByRole('heading', { name: 'Invitation declined' }).waitFor();
    await check('invite-declined');
    const declined = await invitation(id);
    assert.equal(declined.status, 'declined');
    assert.equal(declined.decidedBy, known.user.id);
    assert.equal(await member(known.user.id), null);

    const again = await page.goto(link);
    assert.equal(again?.status(), 410);
    await page.getByRole('heading', { name: 'Invitation already used' }).waitFor();
  });

  it('checked every page state', () => {
    assert.equal(checked.length, 6, checked.join(', '));
  });
});
