/**
 * The one script of the sign-in pages, served from our origin as `/signin/passkey.js` (no inline
 * script): progressive enhancement for passkeys. Without it (or without WebAuthn in the browser)
 * the buttons stay hidden and the pages work as plain forms.
 *
 * - `/signin`: "Sign in with a passkey" (passwordless): options from
 *   `POST /api/v1/auth/login/passkey/options`, the assertion to `POST /api/v1/auth/login/passkey`,
 *   then on to the page's returnTo.
 * - `/signin/mfa`: "Use a passkey" (the second step): options from `POST /signin/mfa/passkey`
 *   (bound to the mfaToken cookie), the assertion posted with the page's form as `webauthn`.
 *
 * Plain ES2017, no modules, no dependencies: it is shipped as is.
 */
export const PASSKEY_SCRIPT = `'use strict';
(function () {
  function b64url(buf) {
    var bytes = new Uint8Array(buf), s = '';
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  }
  function unb64url(s) {
    var bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function requestOptions(o) {
    return {
      challenge: unb64url(o.challenge),
      rpId: o.rpId,
      timeout: o.timeout,
      userVerification: o.userVerification,
      allowCredentials: (o.allowCredentials || []).map(function (c) {
        return { type: 'public-key', id: unb64url(c.id), transports: c.transports };
      }),
    };
  }
  function assertionJson(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: b64url(cred.rawId),
      type: cred.type,
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(r.clientDataJSON),
        authenticatorData: b64url(r.authenticatorData),
        signature: b64url(r.signature),
        userHandle: r.userHandle ? b64url(r.userHandle) : undefined,
      },
    };
  }
  function post(url, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body || {}),
    });
  }
  function say(el, text) {
    if (!el) return;
    el.textContent = text;
    el.hidden = false;
  }
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  // Asks the server for a challenge at optionsPath, then the authenticator for an assertion.
  function assertion(optionsPath) {
    return post(optionsPath)
      .then(function (res) {
        if (!res.ok) throw new Error('options');
        return res.json();
      })
      .then(function (o) {
        return navigator.credentials.get({ publicKey: requestOptions(o) });
      });
  }

  var signIn = document.getElementById('passkey-signin');
  if (signIn) {
    document.getElementById('passkey-area').hidden = false;
    signIn.addEventListener('click', function () {
      var status = document.getElementById('passkey-status');
      signIn.disabled = true;
      assertion('/api/v1/auth/login/passkey/options')
        .then(function (cred) {
          return post('/api/v1/auth/login/passkey', { response: assertionJson(cred) });
        })
        .then(function (res) {
          if (!res.ok) throw new Error('refused');
          window.location.assign(signIn.getAttribute('data-return-to') || '/');
        })
        .catch(function () {
          signIn.disabled = false;
          say(status, 'The passkey sign-in did not work. Try again, or use your password.');
        });
    });
  }

  var second = document.getElementById('passkey-mfa');
  if (second) {
    second.hidden = false;
    second.addEventListener('click', function () {
      var status = document.getElementById('passkey-status');
      var form = document.getElementById('passkey-form');
      second.disabled = true;
      assertion('/signin/mfa/passkey')
        .then(function (cred) {
          form.elements.namedItem('webauthn').value = JSON.stringify(assertionJson(cred));
          form.submit();
        })
        .catch(function () {
          second.disabled = false;
          say(status, 'The passkey did not work. Try again, or enter a code.');
        });
    });
  }
})();
`;
