import { HttpException, HttpStatus } from '@nestjs/common';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const PROBLEM_BASE = 'https://hookhub.dev/problems/';

/** One invalid field of a request, as listed in a problem document's `errors`. */
export interface ProblemFieldError {
  pointer: string;
  detail: string;
}

/** An RFC 9457 problem document. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: ProblemFieldError[];
  [extension: string]: unknown;
}

/**
 * An HTTP error that renders as a problem document with a stable `type`, so
 * clients can branch on the kind of failure instead of parsing messages.
 */
export class ProblemException extends HttpException {
  constructor(
    status: HttpStatus,
    readonly slug: string,
    readonly title: string,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail, status);
  }

  get typeUri(): string {
    return PROBLEM_BASE + this.slug;
  }
}

export function problemType(slug: string): string {
  return PROBLEM_BASE + slug;
}

export const Problems = {
  validation: (detail: string, errors: ProblemFieldError[]) =>
    new ProblemException(HttpStatus.BAD_REQUEST, 'validation-error', 'Request validation failed', detail, { errors }),
  unprocessable: (slug: string, title: string, detail: string, errors?: ProblemFieldError[]) =>
    new ProblemException(HttpStatus.UNPROCESSABLE_ENTITY, slug, title, detail, errors ? { errors } : {}),
  notFound: (what: string) => new ProblemException(HttpStatus.NOT_FOUND, 'not-found', 'Not found', `${what} was not found`),
  gone: (what: string) => new ProblemException(HttpStatus.GONE, 'gone', 'Gone', `${what} was deleted`),
  unauthorized: (detail: string) => new ProblemException(HttpStatus.UNAUTHORIZED, 'unauthorized', 'Unauthorized', detail),
  forbidden: (detail: string) => new ProblemException(HttpStatus.FORBIDDEN, 'forbidden', 'Forbidden', detail),
  conflict: (detail: string) => new ProblemException(HttpStatus.CONFLICT, 'conflict', 'Conflict', detail),
  methodNotAllowed: (detail: string) =>
    new ProblemException(HttpStatus.METHOD_NOT_ALLOWED, 'method-not-allowed', 'Method not allowed', detail),
  malformedCallback: (detail: string) => new ProblemException(HttpStatus.BAD_REQUEST, 'malformed-callback', 'Malformed callback', detail),
  unavailable: (detail: string) =>
    new ProblemException(HttpStatus.SERVICE_UNAVAILABLE, 'unavailable', 'Service unavailable', detail),
};
