import type { INestApplication } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ingestPaths } from './openapi/ingest-paths';
import { outgoingWebhooks } from './openapi/outgoing-webhooks';
import { documentProblems, type JsonSchema } from './openapi/problem-responses';
import type { SubscriptionsConfig } from './subscriptions.config';

/** `SubscriptionsController` + `create` → `subscriptions.create`: names a generated client can use as they are. */
export function operationId(controllerKey: string, methodKey: string): string {
  const resource = controllerKey.replace(/Controller$/, '');
  return `${resource[0].toLowerCase()}${resource.slice(1)}.${methodKey}`;
}

const SUCCESS_TEXT: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted', '204': 'Done; no content' };

/**
 * OpenAPI 3.1 dropped `nullable`; @nestjs/swagger still writes it. A nullable
 * schema becomes a type union with `null` (or `anyOf` with a null schema for a
 * `$ref`), so 3.1 validators and generators see the null.
 */
function toOpenApi31Nullables(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(toOpenApi31Nullables);
  if (typeof node !== 'object' || node === null) return;
  const schema = node as JsonSchema;
  for (const value of Object.values(schema)) toOpenApi31Nullables(value);
  if (schema.nullable !== true) return;
  delete schema.nullable;
  if (typeof schema.type === 'string') {
    schema.type = [schema.type, 'null'];
    if (Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum = [...(schema.enum as unknown[]), null];
  } else if (schema.type === undefined) {
    const inner = { ...schema };
    for (const key of Object.keys(schema)) delete schema[key];
    schema.anyOf = [inner, { type: 'null' }];
  }
}

/** Every response says what it is: the success ones without a description get their operation's summary. */
function describeResponses(doc: OpenAPIObject): void {
  for (const item of Object.values(doc.paths)) {
    for (const op of Object.values(item)) {
      if (typeof op !== 'object' || op === null || !('responses' in op)) continue;
      for (const [status, response] of Object.entries(op.responses as Record<string, { description?: string }>)) {
        if (!response.description) response.description = (op as { summary?: string }).summary ?? SUCCESS_TEXT[status] ?? 'The result';
      }
    }
  }
}

/**
 * The hub's OpenAPI 3.1 document: the admin and publishing API generated
 * from the controllers and DTOs, every error as an RFC 9457 problem,
 * provider-ingest's route on its own server, and the webhooks the hub sends.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = app.get<ConfigService<SubscriptionsConfig, true>>(ConfigService);
  const builder = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('Hookhub API')
    .setDescription(
      'Admin API for tenants, keys and webhook subscriptions; event publishing; the delivery log; resource snapshots; provider connections. ' +
        'Errors are RFC 9457 problem documents. The `webhooks` section describes the requests the hub sends to subscribed endpoints, ' +
        'and `/ingest/…` the route providers call on provider-ingest.',
    )
    .setVersion('1.0')
    .addServer('/', 'This hub: the subscriptions app that served this document')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'opaque API key (hh_…)',
        description:
          'A tenant API key (`hh_` followed by 43 characters), created by POST /v1/tenants/{tenantId}/api-keys or POST /v1/api-keys. Opaque: not a JWT.',
      },
      'api-key',
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'opaque token', description: 'The platform admin token (ADMIN_TOKEN). It manages tenants only.' },
      'admin-token',
    )
    .addTag('webhooks', 'Requests the hub sends to subscribed endpoints (see `webhooks`)')
    .build();
  const doc = SwaggerModule.createDocument(app, builder, { operationIdFactory: operationId });
  Object.assign(doc.paths, ingestPaths(config.get('INGEST_PUBLIC_URL', { infer: true })));
  const { webhooks, schemas } = outgoingWebhooks();
  (doc as OpenAPIObject & { webhooks: Record<string, JsonSchema> }).webhooks = webhooks;
  doc.components = { ...doc.components, schemas: { ...doc.components?.schemas, ...schemas } };
  describeResponses(doc);
  documentProblems(doc);
  toOpenApi31Nullables(doc.paths);
  toOpenApi31Nullables(doc.components.schemas);
  return doc;
}

/** Serves the OpenAPI document at /docs (Swagger UI), /docs-json and /docs-yaml. */
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });
}
