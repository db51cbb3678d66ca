import type { OpenAPIObject, OperationObject, ResponseObject } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from '@hookhub/platform';

export type JsonSchema = Record<string, unknown>;

export const PROBLEM_SCHEMA_NAME = 'Problem';
const PROBLEM_REF = { $ref: `#/components/schemas/${PROBLEM_SCHEMA_NAME}` };

/** RFC 9457 problem details, as every error of the hub is answered (one writer: @hookhub/platform's problemDocument). */
export const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'An RFC 9457 problem document (`application/problem+json`). Branch on `type`, which is stable; `detail` is for people.',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: {
      type: 'string',
      format: 'uri',
      description: 'The kind of problem, e.g. https://hookhub.dev/problems/validation-error',
      example: 'https://hookhub.dev/problems/not-found',
    },
    title: { type: 'string', description: 'Short summary of the kind of problem', example: 'Not found' },
    status: { type: 'integer', description: 'The HTTP status code', example: 404 },
    detail: { type: 'string', description: 'What went wrong this time', example: 'Subscription was not found' },
    instance: { type: 'string', description: 'The path of the request, when known' },
    errors: {
      type: 'array',
      description: 'Invalid fields of the request, one entry per field (validation problems)',
      items: {
        type: 'object',
        required: ['pointer', 'detail'],
        properties: {
          pointer: { type: 'string', description: 'JSON pointer (as a URI fragment) to the field', example: '#/event_types' },
          detail: { type: 'string', example: 'event_types is required' },
        },
      },
    },
  },
  additionalProperties: true,
};

/** The problem a status means on this API when the route says nothing more specific. */
const GENERIC: Record<number, string> = {
  400: 'The request is invalid (`validation-error` lists each field in `errors`), or its JSON is malformed',
  401: 'The credential is missing, unknown or revoked, or not the kind this route takes',
  403: "The API key lacks a role this route needs, or the request names another tenant's data",
  404: 'Nothing with this id exists for the caller (a malformed id too)',
  409: 'The resource is not in a state that allows this',
  410: 'The resource was deleted',
  413: 'The body is larger than the limit',
  415: 'The body is not JSON (`Content-Type: application/json`)',
  422: 'The request is well-formed but cannot be carried out (the problem `type` says why)',
  503: 'A dependency (PostgreSQL, NATS) is not available; retry later',
};

export const problemResponse = (description: string): ResponseObject => ({
  description,
  content: { [PROBLEM_CONTENT_TYPE]: { schema: PROBLEM_REF } },
});

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

/**
 * Gives every operation the error responses it can answer, each with the
 * problem schema: the ones its controller declared (content filled in), and
 * those its shape implies — 401/403 behind credentials, 404 with a path id,
 * 400 with a body or query, 413/415 with a body — plus `default`, for the
 * rest (a 503 while a dependency is down).
 */
export function documentProblems(doc: OpenAPIObject): void {
  doc.components ??= {};
  doc.components.schemas ??= {};
  doc.components.schemas[PROBLEM_SCHEMA_NAME] = PROBLEM_SCHEMA;
  for (const item of Object.values(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method] as OperationObject | undefined;
      if (!op) continue;
      const statuses = new Set<number>();
      const security = op.security ?? [];
      if (security.length > 0) statuses.add(401);
      if (security.some((s) => 'api-key' in s)) statuses.add(403);
      if ((op.parameters ?? []).some((p) => 'in' in p && p.in === 'path')) statuses.add(404);
      if ((op.parameters ?? []).some((p) => 'in' in p && p.in === 'query')) statuses.add(400);
      if (op.requestBody) [400, 413, 415].forEach((s) => statuses.add(s));
      for (const status of statuses) op.responses[String(status)] ??= problemResponse(GENERIC[status]);
      for (const [status, response] of Object.entries(op.responses)) {
        if (response && Number(status) >= 400 && !('$ref' in response) && !response.content) {
          op.responses[status] = problemResponse(response.description || GENERIC[Number(status)] || 'An error');
        }
      }
      op.responses.default ??= problemResponse('Any other error, e.g. 503 while PostgreSQL or NATS is unavailable');
    }
  }
}
