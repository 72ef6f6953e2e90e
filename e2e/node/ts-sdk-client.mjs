// A real MCP client on the TypeScript SDK (@modelcontextprotocol/sdk), driven
// by e2e/tssdk_test.go. It uses the SDK's own OAuth machinery — discovery,
// dynamic registration, PKCE with `resource`, code exchange, refresh — behind
// an OAuthClientProvider that keeps its state in a JSON file, as a desktop
// client keeps it on disk.
//
// Usage: node ts-sdk-client.mjs <mcp-url> <state-file> <redirect-url>
//
// It talks to the test in JSON lines. On stdout:
//   {"event":"authorize","url":...}   sign in and consent, then send the
//                                     redirect as a line on stdin: {"callback": url}
//   {"event":"whoami","result":...}   after a tool call
//   {"event":"refreshed","accessTokenChanged":bool,"refreshTokenChanged":bool}
//   {"event":"done"}
// Errors go to stderr and end the process with a non-zero status.
import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { auth, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

const [mcpURL, stateFile, redirectURL] = process.argv.slice(2);
if (!mcpURL || !stateFile || !redirectURL) {
  console.error('usage: node ts-sdk-client.mjs <mcp-url> <state-file> <redirect-url>');
  process.exit(2);
}

const emit = (event) => process.stdout.write(JSON.stringify(event) + '\n');
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function nextLine() {
  const { value, done } = await lines.next();
  if (done) throw new Error('stdin closed while waiting for the test');
  return JSON.parse(value);
}

function load() {
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8'));
  } catch {
    return {};
  }
}
function save(patch) {
  writeFileSync(stateFile, JSON.stringify({ ...load(), ...patch }), { mode: 0o600 });
}

class FileProvider {
  get redirectUrl() {
    return redirectURL;
  }
  get clientMetadata() {
    return {
      client_name: 'e2e TypeScript SDK client',
      redirect_uris: [redirectURL],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() {
    const state = randomBytes(16).toString('hex');
    save({ state });
    return state;
  }
  clientInformation() {
    return load().clientInformation;
  }
  saveClientInformation(clientInformation) {
    save({ clientInformation });
  }
  tokens() {
    return load().tokens;
  }
  saveTokens(tokens) {
    save({ tokens });
  }
  saveDiscoveryState(discovery) {
    save({ discovery });
  }
  discoveryState() {
    return load().discovery;
  }
  redirectToAuthorization(url) {
    emit({ event: 'authorize', url: url.toString() });
  }
  saveCodeVerifier(codeVerifier) {
    save({ codeVerifier });
  }
  codeVerifier() {
    return load().codeVerifier;
  }
}

// The SDK leaves the authorization response to the application: check state,
// and RFC 9207 iss where the server advertises it, as a careful client does.
function codeFromCallback(callback) {
  const params = new URL(callback).searchParams;
  const { state, discovery } = load();
  if (params.get('error')) throw new Error(`authorization failed: ${params.get('error')}: ${params.get('error_description')}`);
  if (params.get('state') !== state) throw new Error('state mismatch in the authorization response');
  const meta = discovery?.authorizationServerMetadata;
  if (meta?.authorization_response_iss_parameter_supported && params.get('iss') !== meta.issuer) {
    throw new Error(`iss ${params.get('iss')} in the authorization response is not the issuer ${meta.issuer}`);
  }
  return params.get('code');
}

async function connect(provider) {
  const client = new Client({ name: 'e2e-ts-sdk', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpURL), { authProvider: provider }));
  return client;
}

async function connectAuthorizing(provider) {
  try {
    return await connect(provider);
  } catch (err) {
    if (!(err instanceof UnauthorizedError)) throw err;
  }
  // The SDK asked for authorization; the test signs in and hands back the redirect.
  const { callback } = await nextLine();
  const transport = new StreamableHTTPClientTransport(new URL(mcpURL), { authProvider: provider });
  await transport.finishAuth(codeFromCallback(callback));
  return connect(provider);
}

async function whoami(client) {
  const res = await client.callTool({ name: 'whoami', arguments: {} });
  if (res.isError) throw new Error(`whoami failed: ${JSON.stringify(res.content)}`);
  emit({ event: 'whoami', result: res.structuredContent });
  await client.close();
}

const provider = new FileProvider();
await whoami(await connectAuthorizing(provider));

if (process.env.E2E_REFRESH === '1') {
  const before = provider.tokens();
  const result = await auth(provider, { serverUrl: mcpURL });
  if (result !== 'AUTHORIZED') throw new Error(`refresh: auth() returned ${result}`);
  const after = provider.tokens();
  emit({
    event: 'refreshed',
    accessTokenChanged: after.access_token !== before.access_token,
    refreshTokenChanged: after.refresh_token !== before.refresh_token,
  });
  await whoami(await connect(provider));
}
emit({ event: 'done' });
process.exit(0);
