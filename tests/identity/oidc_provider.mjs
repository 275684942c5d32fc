// A real OpenID provider for the identity tests: npm `oidc-provider` (certified), installed by
// deploy/oidc_provider.sh. Run by tests/identity/provider.py on loopback:
//   node oidc_provider.mjs <port> <config.json>
// config.json: {"clients": [...oidc-provider client metadata], "accounts": {login: {password, claims}}}
// Its own sign-in page checks each test account's password; consent is given without asking,
// as an organisation's provider does for its own applications. PKCE is required of every client.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import http from 'node:http';

const prefix = process.env.PORTAL_OIDC_PROVIDER_PREFIX || '/opt/portal/oidc-provider';
const require = createRequire(`${prefix}/node_modules/`);
const { default: Provider } = await import(require.resolve('oidc-provider'));

const port = Number(process.argv[2]);
const config = JSON.parse(readFileSync(process.argv[3], 'utf8'));
const issuer = `http://127.0.0.1:${port}`;

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const provider = new Provider(issuer, {
  clients: config.clients,
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    groups: ['groups'],
  },
  // The account id is the `sub` claim: the provider's stable identifier, apart from the login name.
  async findAccount(ctx, sub) {
    const account = Object.values(config.accounts).find((candidate) => candidate.claims.sub === sub);
    if (!account) return undefined;
    return { accountId: sub, claims: async () => ({ ...account.claims }) };
  },
  features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
  cookies: { keys: ['identity-tests-cookie-key'] },
  ttl: { AuthorizationCode: 120, Session: 3600, Interaction: 600, Grant: 3600, IdToken: 3600, AccessToken: 3600 },
});

function page(title, body) {
  return `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
}

function readForm(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (chunk) => { data += chunk; });
    req.on('end', () => resolve(new URLSearchParams(data)));
  });
}

async function consent(req, res, details) {
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'consent') return consent(req, res, details);
  if (req.method === 'POST') {
    const form = await readForm(req);
    const login = form.get('login') || '';
    const account = config.accounts[login];
    if (account && account.password === form.get('password')) {
      const result = { login: { accountId: account.claims.sub } };
      return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    }
    details.error = 'Wrong user name or password.';
  }
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(page('Test provider sign-in', `
    ${details.error ? `<p role="alert">${escape(details.error)}</p>` : ''}
    <form method="post" action="/interaction/${escape(details.uid)}">
      <label>Login <input name="login" autocomplete="username"></label>
      <label>Password <input name="password" type="password" autocomplete="current-password"></label>
      <button type="submit">Sign in to the provider</button>
    </form>`));
  return undefined;
}

const callback = provider.callback();
http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => {
      res.statusCode = 400;
      res.end(page('Interaction failed', escape(error.message)));
    });
  } else {
    callback(req, res);
  }
}).listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
