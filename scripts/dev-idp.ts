// A local OpenID Connect provider for trying browser sign-in on one machine:
//   npm run dev:idp        (DEV_IDP_PORT, default 4000; PUBLIC_URL as for Gatehouse)
// Prints the OIDC_PROVIDERS value to start Gatehouse with. Its login form accepts any login and
// any password; a few logins have fixed accounts (see below), any other becomes <login>@example.test.
import {
  defaultAccount,
  startLocalOidcProvider,
  type LocalAccount,
} from './lib/local-oidc-provider.js';

const port = Number(process.env.DEV_IDP_PORT ?? 4000);
const gatehousePort = process.env.PORT ?? '3000';
const publicUrl = (process.env.PUBLIC_URL ?? `http://localhost:${gatehousePort}`).replace(
  /\/+$/,
  '',
);
const providerId = 'dev';
const clientId = 'gatehouse-dev';
const clientSecret = 'dev-secret-not-for-production';

const accounts: Record<string, LocalAccount> = {
  alice: { email: 'alice@example.test', email_verified: true, name: 'Alice Example' },
  bob: { email: 'bob@example.test', email_verified: true, name: 'Bob Example' },
  carol: { email: 'carol@example.test', email_verified: false, name: 'Carol Unverified' },
};

const idp = await startLocalOidcProvider({
  port,
  clientId,
  clientSecret,
  redirectUris: [`${publicUrl}/api/v1/auth/oidc/${providerId}/callback`],
  account: (login) => accounts[login] ?? defaultAccount(login),
});

const providers = JSON.stringify([
  {
    id: providerId,
    name: 'Dev IdP',
    issuer: idp.issuer,
    clientId,
    clientSecret,
    trustEmailForLinking: false,
  },
]);

console.log(`Dev OpenID Connect provider listening at ${idp.issuer}
Test accounts (any password): alice, bob (verified emails), carol (email NOT verified);
any other login signs in as <login>@example.test (verified).

Start Gatehouse with:

  PORT=${gatehousePort} PUBLIC_URL=${publicUrl} OIDC_PROVIDERS='${providers}' npm start

then open ${publicUrl}/signin. Stop with Ctrl-C.`);

const stop = () => {
  void idp.stop().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
