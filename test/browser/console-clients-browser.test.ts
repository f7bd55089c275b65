import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { OAuthClient } from '#src/provider/entities/oauth-client.entity.js';
import { User } from '#src/users/user.entity.js';
import { makeUser, uniqueEmail } from '../factories/users.js';
import { assertAccessible, ConsoleBrowser, screenshot, skip } from '../support/console-browser.js';

const API = '/api/v1';

describe('console OAuth clients in Chromium', { skip }, () => {
  const s = new ConsoleBrowser();
  before(() => s.start());
  after(() => s.stop());

  /** POST /oauth/token with client_credentials and the secret in the form body. */
  const token = (clientId: string, secret: string) =>
    fetch(`${s.base}${API}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: secret,
      }),
    });

  it('lets an admin register a client (secret shown once and working), edit, rotate and delete it', async () => {
    const { t, admin } = s;
    const clients = t.db.getRepository(OAuthClient);
    const { context, page } = await s.signedIn(admin, '/console/clients');
    try {
      await page.getByRole('heading', { name: 'Clients', level: 1 }).waitFor();
      await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached' });
      const before = await clients.count();

      // A redirect URI over plain http to another host: refused at the field, nothing written.
      await page.getByRole('button', { name: 'Register client' }).click();
      const dialog = page.getByRole('dialog', { name: 'Register client' });
      await dialog.getByLabel('Name', { exact: true }).fill('Nightly worker');
      const redirect = dialog.getByLabel('Redirect URIs', { exact: true });
      await redirect.fill('http://evil.example/cb');
      await redirect.press('Enter');
      await assertAccessible(page, 'register client');
      await screenshot(page, 'console-client-register');
      await dialog.getByRole('button', { name: 'Register client' }).click();
      // The message under the field (and the problem's detail above the form).
      await dialog
        .getByText('http://evil.example/cb: http is allowed only for loopback addresses', {
          exact: true,
        })
        .waitFor();
      assert.equal(await redirect.getAttribute('aria-invalid'), 'true');
      assert.equal(await clients.count(), before, 'nothing registered');

      // A service: client_credentials only, the secret in the form body.
      await redirect.press('Backspace');
      await dialog.getByRole('checkbox', { name: 'Authorization code' }).uncheck();
      await dialog.getByRole('checkbox', { name: 'Client credentials' }).check();
      await dialog.getByLabel('Token endpoint authentication', { exact: true }).click();
      await page.getByRole('option', { name: 'Client secret (form body)' }).click();
      await dialog.getByRole('button', { name: 'Register client' }).click();
      const secret = (await page.getByTestId('client-secret').textContent()) ?? '';
      const clientId = (await page.getByTestId('client-id').textContent()) ?? '';
      assert.match(secret, /^ghcs_/);
      await dialog.getByText('You will not see it again', { exact: false }).waitFor();
      await dialog.getByRole('button', { name: 'Copy client secret' }).waitFor();
      await assertAccessible(page, 'client secret');
      await screenshot(page, 'console-client-secret');
      const row = await clients.findOneByOrFail({ clientId });
      assert.equal(row.name, 'Nightly worker');
      assert.deepEqual(row.grantTypes, ['client_credentials']);
      assert.equal(row.tokenEndpointAuthMethod, 'client_secret_post');
      const rawRows = JSON.stringify(await t.db.query('SELECT * FROM oauth_clients'));
      assert.ok(!rawRows.includes(secret), 'only a hash of the secret is stored');
      assert.ok(row.serviceUserId, 'a client_credentials client has a service user');
      const service = await t.db.getRepository(User).findOneByOrFail({ id: row.serviceUserId });
      assert.equal(service.kind, 'service');

      // The secret shown is the one that works at the token endpoint.
      const issued = await token(clientId, secret);
      assert.equal(issued.status, 200);
      assert.ok(((await issued.json()) as { access_token?: string }).access_token);

      await dialog.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('link', { name: 'Nightly worker' }).waitFor();
      assert.equal(await page.getByTestId('client-secret').count(), 0, 'the secret is gone');
      await assertAccessible(page, 'clients');
      await screenshot(page, 'console-clients');

      // The client: its service user, an edit, a rotation.
      await page.getByRole('link', { name: 'Nightly worker' }).click();
      await page.getByRole('heading', { name: 'Nightly worker', level: 1 }).waitFor();
      const serviceLink = page.getByTestId('service-user-link');
      assert.equal(await serviceLink.getAttribute('href'), `/console/users/${service.id}`);
      await assertAccessible(page, 'client');
      await screenshot(page, 'console-client-detail');
      const name = page.getByLabel('Name', { exact: true });
      await name.fill('Nightly batch');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByRole('heading', { name: 'Nightly batch', level: 1 }).waitFor();
      assert.equal((await clients.findOneByOrFail({ clientId })).name, 'Nightly batch');

      await page.getByRole('button', { name: 'Rotate secret' }).click();
      const rot = page.getByRole('dialog', { name: 'Rotate client secret' });
      await rot.getByRole('button', { name: 'Rotate secret' }).click();
      const next = (await page.getByTestId('client-secret').textContent()) ?? '';
      assert.match(next, /^ghcs_/);
      assert.notEqual(next, secret);
      const old = await token(clientId, secret);
      assert.equal(old.status, 401, 'the old secret is refused');
      assert.equal(((await old.json()) as { error: string }).error, 'invalid_client');
      assert.equal((await token(clientId, next)).status, 200, 'the new one works');
      await rot.getByRole('button', { name: 'Done' }).click();
      await rot.waitFor({ state: 'detached' });

      // The service user's page is one click away.
      await serviceLink.click();
      await page.waitForURL(`${s.base}/console/users/${service.id}`);
      await page.goBack();
      await page.getByRole('heading', { name: 'Nightly batch', level: 1 }).waitFor();

      await page.getByRole('button', { name: 'Delete', exact: true }).click();
      const del = page.getByRole('dialog', { name: 'Delete client' });
      await del.getByText('its service user is disabled', { exact: false }).waitFor();
      await del.getByRole('button', { name: 'Delete client' }).click();
      await page.getByRole('heading', { name: 'Clients', level: 1 }).waitFor();
      await page.getByRole('link', { name: 'Nightly batch' }).waitFor({ state: 'detached' });
      assert.equal(await clients.findOneBy({ clientId }), null);
      const disabled = await t.db.getRepository(User).findOneByOrFail({ id: service.id });
      assert.equal(disabled.status, 'disabled');
      assert.equal((await token(clientId, next)).status, 401, 'a deleted client gets no token');
    } catch (e) {
      mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({
        path: `test-artifacts/console-clients-failure-${Date.now()}.png`,
        fullPage: true,
      });
      throw e;
    } finally {
      await context.close();
    }
  });

  it('shows clients read-only to a caller with clients.read only, and not at all without it', async () => {
    const { t, admin, plain } = s;
    const role = await t.http
      .post(`${API}/roles`)
      .set(admin.auth)
      .send({ name: `client-auditor-${Date.now()}`, permissions: ['clients.read'] });
    assert.equal(role.status, 201, JSON.stringify(role.body));
    const reader = await makeUser(t, { fullName: 'Rita Reader', email: uniqueEmail('rita') });
    const granted = await t.http
      .patch(`${API}/users/${reader.user.id}`)
      .set(admin.auth)
      .send({ roles: [role.body.name as string] });
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    const created = await t.http
      .post(`${API}/clients`)
      .set(admin.auth)
      .send({
        name: 'Read-only view',
        grantTypes: ['authorization_code'],
        redirectUris: ['https://app.example/cb'],
        tokenEndpointAuthMethod: 'none',
      });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const clientId = created.body.clientId as string;

    const { context, page } = await s.signedIn(reader, '/console/clients');
    try {
      await page.getByRole('link', { name: 'Read-only view' }).waitFor();
      const nav = page.getByRole('navigation', { name: 'Console' });
      await nav.getByRole('link', { name: 'Clients' }).waitFor();
      assert.equal(await nav.getByRole('link', { name: 'Users' }).count(), 0);
      assert.equal(await page.getByRole('button', { name: 'Register client' }).count(), 0);
      await page.getByRole('link', { name: 'Read-only view' }).click();
      await page.getByRole('heading', { name: 'Read-only view', level: 1 }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Delete', exact: true }).count(), 0);
      assert.equal(await page.getByRole('button', { name: 'Save changes' }).count(), 0);
      assert.equal(await page.getByLabel('Name', { exact: true }).isDisabled(), true);
      await assertAccessible(page, 'client read-only');
      // The API agrees: reading yes, changing no.
      const cookie = (await context.cookies(s.base)).find((c) => c.name === 'gh_session');
      const headers = { Cookie: `gh_session=${cookie?.value ?? ''}` };
      const patch = await fetch(`${s.base}${API}/clients/${clientId}`, {
        method: 'PATCH',
        headers: { ...headers, 'content-type': 'application/json', Origin: s.base },
        body: JSON.stringify({ name: 'Changed' }),
      });
      assert.equal(patch.status, 403);
      assert.equal(
        (await t.db.getRepository(OAuthClient).findOneByOrFail({ clientId })).name,
        'Read-only view',
      );
    } finally {
      await context.close();
    }

    // Without clients.read the console has nothing for them: sent to their account.
    const plainSession = await s.signedIn(plain, '/console/clients');
    try {
      await plainSession.page.waitForURL(`${s.base}/account`);
    } finally {
      await plainSession.context.close();
    }
  });
});
