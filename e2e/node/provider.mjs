// provider.mjs runs an OpenID provider (the certified npm package
// oidc-provider) shaped like an Okta custom authorization server, for
// plexgate's end-to-end tests and `make demo`.
//
//   node provider.mjs <config.json>
//
// The config file (written by the Go harness, see e2e/harness/oidc.go):
//   { "issuer": "http://localhost:9000/oauth2/default", "listen": "127.0.0.1:9000",
//     "clients": [{ "client_id", "client_secret", "redirect_uris", "post_logout_redirect_uris" }],
//     "users": [{ "username", "password", "email", "name", "groups": [], "otp": "123456" | "" }] }
//
// What it mimics from Okta: the issuer path /oauth2/default, the /v1/…
// endpoint paths, a confidential web client with PKCE, a `groups` scope
// whose claim is in the ID token, and `amr`/`acr` that reflect what the user
// really did: ["pwd"] after the password, ["pwd","mfa"] after the one-time
// code that users with "otp" must enter. Consent is granted automatically
// (first-party app). Users, passwords and codes are test data only.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import Provider from 'oidc-provider';

const ACR_PASSWORD = 'urn:okta:loa:1fa:pwd';
const ACR_MFA = 'urn:okta:loa:2fa:any';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = new URL(config.issuer);
const prefix = issuer.pathname.replace(/\/$/, '');
const users = new Map(config.users.map((u) => [u.username, u]));
// uid of an interaction whose password step passed → username awaiting the one-time code.
const pendingMFA = new Map();

function findAccount(ctx, sub) {
  const user = users.get(sub);
  if (!user) return undefined;
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        email: user.email,
        email_verified: true,
        name: user.name,
        preferred_username: user.email,
        groups: user.groups,
      };
    },
  };
}

// loadExistingGrant grants every requested scope and claim: consent is
// implied for this first-party client, as an Okta admin would configure it.
async function loadExistingGrant(ctx) {
  const { oidc } = ctx;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
  if (grantId) return oidc.provider.Grant.find(grantId);
  const grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
  grant.addOIDCScope([...oidc.requestParamScopes].join(' '));
  grant.addOIDCClaims([...oidc.requestParamClaims]);
  await grant.save();
  return grant;
}

// A fresh RS256 signing key per start (Okta signs ID tokens with RS256).
const signingKey = {
  ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  kid: randomBytes(8).toString('hex'),
  alg: 'RS256',
  use: 'sig',
};

const provider = new Provider(config.issuer, {
  jwks: { keys: [signingKey] },
  clients: config.clients.map((c) => ({
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...c,
  })),
  findAccount,
  loadExistingGrant,
  conformIdTokenClaims: false, // Okta's "groups" claim is configured "include in: ID token, always"
  claims: {
    openid: ['sub', 'acr', 'amr', 'auth_time'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
    acr: null,
    amr: null,
    auth_time: null,
    sid: null,
  },
  scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
  acrValues: [ACR_PASSWORD, ACR_MFA],
  pkce: { required: () => true },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: {
    devInteractions: { enabled: false },
    // Okta ends the session at once for a valid id_token_hint: submit the
    // confirmation form automatically.
    rpInitiatedLogout: {
      enabled: true,
      logoutSource(ctx, form) {
        ctx.body = page('Signing out', `${form.replace('</form>', '<input type="hidden" name="logout" value="yes"></form>')}
<script>document.forms[0].submit()</script><noscript><button form="op.logoutForm" type="submit">Sign out</button></noscript>`);
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  routes: {
    authorization: '/v1/authorize',
    token: '/v1/token',
    jwks: '/v1/keys',
    userinfo: '/v1/userinfo',
    end_session: '/v1/logout',
    revocation: '/v1/revoke',
    introspection: '/v1/introspect',
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Sign-in error', `<p id="error">${escape(out.error)}: ${escape(out.error_description || '')}</p>`);
  },
});
const callback = provider.callback();

function escape(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head>
<body><h1>${escape(title)}</h1><p>Stand-in for Okta (plexgate test provider)</p>${body}</body></html>`;
}

function loginForm(uid, error) {
  return page('Sign in', `${error ? `<p id="error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label>Username <input name="username" id="username" autocomplete="username" autofocus></label>
<label>Password <input name="password" id="password" type="password" autocomplete="current-password"></label>
<button type="submit" id="submit">Sign in</button></form>`);
}

function otpForm(uid, error) {
  return page('Verify it is you', `${error ? `<p id="error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/otp">
<label>One-time code <input name="otp" id="otp" inputmode="numeric" autocomplete="one-time-code" autofocus></label>
<button type="submit" id="verify">Verify</button></form>`);
}

function sameSecret(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 16384) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

async function finishLogin(req, res, username, amr) {
  const acr = amr.includes('mfa') ? ACR_MFA : ACR_PASSWORD;
  await provider.interactionFinished(req, res, { login: { accountId: username, amr, acr } }, { mergeWithLastSubmission: false });
}

async function onPassword(req, res, uid) {
  const form = await readForm(req);
  const user = users.get(form.get('username') || '');
  if (!user || !sameSecret(form.get('password') || '', user.password)) {
    send(res, 401, loginForm(uid, 'Unable to sign in: wrong username or password.'));
    return;
  }
  if (!user.otp) {
    await finishLogin(req, res, user.username, ['pwd']);
    return;
  }
  pendingMFA.set(uid, user.username);
  send(res, 200, otpForm(uid));
}

async function onOTP(req, res, uid) {
  const form = await readForm(req);
  const user = users.get(pendingMFA.get(uid) || '');
  if (!user) {
    send(res, 400, loginForm(uid, 'Sign in with your password first.'));
    return;
  }
  if (!sameSecret(form.get('otp') || '', user.otp)) {
    send(res, 401, otpForm(uid, 'That code is not valid.'));
    return;
  }
  pendingMFA.delete(uid);
  await finishLogin(req, res, user.username, ['pwd', 'mfa']);
}

async function onInteraction(req, res, uid, step) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'GET' && !step) return send(res, 200, loginForm(uid));
  if (req.method === 'POST' && step === 'login') return onPassword(req, res, uid);
  if (req.method === 'POST' && step === 'otp') return onOTP(req, res, uid);
  return send(res, 405, page('Not allowed', '<p>method not allowed</p>'));
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://provider.invalid');
  const interaction = url.pathname.match(/^\/interaction\/([\w-]+)(?:\/(login|otp))?$/);
  if (interaction) return onInteraction(req, res, interaction[1], interaction[2]);
  if (url.pathname === '/healthz') return send(res, 200, 'ok');
  if (url.pathname === prefix || url.pathname.startsWith(`${prefix}/`)) {
    req.originalUrl = req.url;
    req.url = req.url.slice(prefix.length) || '/';
    return callback(req, res);
  }
  return send(res, 404, page('Not found', '<p>not found</p>'));
}

const [host, port] = [config.listen.slice(0, config.listen.lastIndexOf(':')), Number(config.listen.slice(config.listen.lastIndexOf(':') + 1))];
createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error(`provider: ${req.method} ${req.url.split('?')[0]}: ${err.message}`);
    if (!res.headersSent) send(res, 400, page('Sign-in error', `<p id="error">${escape(err.message)}</p>`));
  });
}).listen(port, host, () => {
  console.log(`provider: listening on http://${config.listen}, issuer ${config.issuer}`);
});

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
