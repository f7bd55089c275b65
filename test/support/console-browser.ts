import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import axe from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createTestApp, type TestApp } from './app.js';
import { freePort } from './listen.js';
import { makeUser, uniqueEmail, type MadeUser } from '../factories/users.js';
import { createProject, createWorkspace, tag } from '../factories/workspaces.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(process.cwd(), 'docs', 'screenshots');
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';
export const skip =
  process.env.TEST_SKIP_BROWSER === '1'
    ? existsSync(CHROMIUM)
      ? 'TEST_SKIP_BROWSER=1'
      : `TEST_SKIP_BROWSER=1 and ${CHROMIUM} is missing (apt-get install -y chromium)`
    : false;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown }[];
}

/** axe-core in the page: no serious or critical violation. */
export async function assertAccessible(page: Page, screen: string): Promise<void> {
  // Through the DevTools protocol, so the page's CSP (scripts from self only) does not apply.
  await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    const w = globalThis as unknown as {
      axe: { run: () => Promise<{ violations: AxeViolation[] }> };
    };
    const r = await w.axe.run();
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => JSON.stringify(n.target)).slice(0, 3),
    }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `axe on ${screen}: ${JSON.stringify(bad, null, 2)}`);
}

/** The screen at desktop (1280×800) and phone (390×844) widths, when UPDATE_SCREENSHOTS=1. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (!UPDATE_SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const [suffix, size] of [
    ['desktop', { width: 1280, height: 800 }],
    ['phone', { width: 390, height: 844 }],
  ] as const) {
    await page.setViewportSize(size);
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${suffix}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** The whole application on a port, Chromium, and the people and resources the flows use. */
export class ConsoleBrowser {
  t!: TestApp;
  base = '';
  browser!: Browser;
  admin!: MadeUser;
  target!: MadeUser;
  plain!: MadeUser;
  workspace!: { domain: string; title: string };
  project!: { id: string; name: string };

  /**
   * `host: 'localhost'` serves on http://localhost:<port> (resolved to 127.0.0.1): WebAuthn needs a
   * domain as relying party id, not an IP address.
   */
  async start(
    env: Record<string, string> = {},
    opts: { host?: '127.0.0.1' | 'localhost' } = {},
  ): Promise<void> {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `${CHROMIUM} is missing: install it (apt-get install -y chromium), or set TEST_SKIP_BROWSER=1 to skip this test`,
      );
    const port = await freePort();
    this.base = `http://${opts.host ?? '127.0.0.1'}:${port}`;
    this.t = await createTestApp({ PUBLIC_URL: this.base, ...env });
    const t = this.t;
    await t.app.listen(port, '127.0.0.1');
    this.admin = await makeUser(t, {
      role: 'admin',
      fullName: 'Ada Admin',
      email: uniqueEmail('ada'),
    });
    // The user the admin finds by prefix; signed in once through the API (a session to sign out).
    this.target = await makeUser(t, { fullName: 'Zed Target', email: uniqueEmail('zed-target') });
    this.plain = await makeUser(t, { fullName: 'Paula Plain', email: uniqueEmail('paula') });
    this.workspace = await createWorkspace(t, this.admin.auth, tag('Acme'));
    this.project = await createProject(t, this.admin.auth, this.workspace.domain, tag('Billing'));
    this.browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--no-first-run',
        '--host-resolver-rules=MAP localhost 127.0.0.1',
      ],
    });
  }

  async stop(): Promise<void> {
    await this.browser?.close();
    await this.t?.close();
  }

  async signedIn(
    who: MadeUser,
    returnTo: string,
  ): Promise<{ context: BrowserContext; page: Page }> {
    // Reduced motion: the console then skips its transitions, so a dialog that closed is gone
    // (not fading out without its title) when axe or the next step looks at the page.
    const context = await this.browser.newContext({
      viewport: { width: 1280, height: 800 },
      reducedMotion: 'reduce',
    });
    const page = await context.newPage();
    const failures: string[] = [];
    page.on('pageerror', (e) => failures.push(e.message));
    await page.goto(`${this.base}${returnTo}`);
    // Signed out: sent to the sign-in page, which comes back here.
    await page.waitForURL((u) => u.pathname === '/signin');
    assert.equal(new URL(page.url()).searchParams.get('returnTo'), returnTo);
    await page.fill('#username', who.email);
    await page.fill('#password', who.password);
    await page.click('button[type="submit"]');
    await page.waitForURL((u) => u.pathname !== '/signin');
    await page.getByTestId('signed-in-email').waitFor();
    assert.equal(await page.getByTestId('signed-in-email').textContent(), who.email);
    return { context, page };
  }
}

/** Picks an option of a searchable select; retried when the list re-rendered under the click. */
export async function pick(page: Page, label: string, search: string, option: string | RegExp) {
  const input = page.getByRole('combobox', { name: label, exact: true });
  const wanted = typeof option === 'string' ? option : option.source.replace(/\\/g, '');
  for (let attempt = 0; attempt < 3; attempt++) {
    await input.click();
    await input.fill(search);
    await page.getByRole('option', { name: option }).first().click();
    if ((await input.inputValue()).includes(wanted)) return;
  }
  assert.fail(`could not pick ${String(option)} in ${label}`);
}
