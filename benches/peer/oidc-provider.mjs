// The peer for the token endpoint benchmark: node-oidc-provider with one
// client_credentials client, as its documentation configures it; opaque access tokens.
// Usage: node oidc-provider.mjs PORT CLIENT_ID CLIENT_SECRET
import Provider from 'oidc-provider';

const [port, clientId, clientSecret] = process.argv.slice(2);
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
  scopes: ['api'],
});
provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`peer escuchando en http://127.0.0.1:${port}`);
});
