import { PROVIDER_NAMES } from '@hookhub/providers';
import { problemResponse, type JsonSchema } from './problem-responses';

/**
 * provider-ingest's one route, described in this document with its own
 * server (INGEST_PUBLIC_URL): providers call it, not API clients, but whoever
 * configures a provider or tests a connection needs its contract.
 */
export function ingestPaths(ingestPublicUrl: string): Record<string, JsonSchema> {
  const parameters = [
    { name: 'provider', in: 'path', required: true, description: 'The connection’s provider', schema: { type: 'string', enum: PROVIDER_NAMES } },
    { name: 'connectionId', in: 'path', required: true, description: 'The provider connection id', schema: { type: 'string', format: 'uuid' } },
  ];
  const responses = {
    '200': {
      description:
        'Stored (or already stored: `duplicate`); it becomes events within about a second. Some providers get the answer their protocol ' +
        'expects instead (a handshake echo, an empty TwiML document), with the content type it needs.',
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: ['received', 'duplicate'],
            properties: { received: { type: 'boolean', const: true }, duplicate: { type: 'boolean' } },
          },
        },
        '*/*': { schema: { type: 'string' } },
      },
    },
    '400': problemResponse('The callback could not be read (`malformed-callback`)'),
    '401': problemResponse('The provider’s signature did not verify with the connection’s credentials'),
    '404': problemResponse('No connection with this id for this provider'),
    '405': problemResponse('Neither POST nor (for providers with a GET handshake) GET'),
    '413': problemResponse('The body is larger than INGEST_BODY_LIMIT'),
    '415': problemResponse('The body is not what its Content-Type declares'),
    '503': problemResponse('The signature cannot be checked right now (e.g. the signing certificate is unreachable); the provider should retry'),
    default: problemResponse('Any other error'),
  };
  const operation = (method: 'post' | 'get', summary: string, description: string): JsonSchema => ({
    operationId: `ingest.${method === 'post' ? 'receive' : 'handshake'}`,
    tags: ['provider ingest'],
    summary,
    description,
    security: [],
    parameters,
    ...(method === 'post'
      ? {
          requestBody: {
            required: true,
            description: 'Exactly as the provider sends it: signatures are checked over these bytes',
            content: { '*/*': { schema: {} } },
          },
        }
      : {}),
    responses,
  });
  return {
    '/ingest/{provider}/{connectionId}': {
      servers: [{ url: ingestPublicUrl, description: 'provider-ingest (INGEST_PUBLIC_URL)' }],
      post: operation(
        'post',
        'A provider’s callback',
        'Authenticated by the provider’s own signature scheme (see GET /v1/providers and the connection’s credentials), not by API keys. ' +
          'Configure the connection’s `ingest_url` at the provider.',
      ),
      get: operation('get', 'A provider’s GET handshake', 'Only providers with `accepts_get` (GET /v1/providers) call with GET, to prove the URL is theirs.'),
    },
  };
}
