import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import axe from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createTestApp, type TestApp } from './app.js';
import { freePort } from './listen.js';
import { SmtpCapture } from './smtp.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(process.cwd(), 'docs', 'screenshots');
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';
export const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/** The describe option of the server-rendered pages' browser tests. */
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
  nodes: { target: string[] }[];
}

/**
 * Gatehouse's server-rendered pages in real Chromium: an app listening on a loopback port (its
 * PUBLIC_URL), a real SMTP server catching the mailed links, one desktop-sized page, and `check`
 * running axe-core at desktop and phone widths (screenshots with UPDATE_SCREENSHOTS=1).
 */
export class PagesBrowser {
  readonly smtp = new SmtpCapture();
  /** Names of the page states `check` passed. */
  readonly checked: string[] = [];
  t!: TestApp;
  base = '';
  context!: BrowserContext;
  page!: Page;
  private browser?: Browser;

  async start(env: Record<string, string>): Promise<void> {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `${CHROMIUM} is missing: install it (apt-get install -y chromium), or set TEST_SKIP_BROWSER=1 to skip this test`,
      );
    const port = await freePort();
    this.base = `http://127.0.0.1:${port}`;
    const smtpUrl = await this.smtp.start();
    this.t = await createTestApp({ PUBLIC_URL: this.base, SMTP_URL: smtpUrl, ...env });
    await this.t.app.listen(port, '127.0.0.1');
    if (UPDATE_SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
    this.browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    this.context = await this.browser.newContext({ viewport: DESKTOP });
    this.page = await this.context.newPage();
  }

  async stop(): Promise<void> {
    await this.context?.close();
    await this.browser?.close();
    await this.t?.close();
    await this.smtp.stop();
  }

  /** axe-core on the page as it is, at both widths; a screenshot of each when asked. */
  async check(name: string): Promise<void> {
    const page = this.page;
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
      // Nothing wider than the phone: no sideways scrolling.
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      assert.ok(overflow <= 0, `${name} at ${width} scrolls sideways by ${overflow}px`);
      if (UPDATE_SCREENSHOTS)
        await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true });
    }
    await page.setViewportSize(DESKTOP);
    this.checked.push(name);
  }
}
