import { STATUS_CODES } from 'node:http';
import { HttpException, HttpStatus } from '@nestjs/common';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const PROBLEM_BASE = 'https://hookhub.dev/problems/';

/** The `type` of a problem that has none more specific, by status: one slug per meaning. */
const STATUS_SLUGS: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  406: 'not-acceptable',
  408: 'request-timeout',
  409: 'conflict',
  410: 'gone',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  417: 'expectation-failed',
  422: 'unprocessable-entity',
  429: 'too-many-requests',
  431: 'request-header-fields-too-large',
  503: 'unavailable',
};

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
    return problemType(this.slug);
  }

  document(): ProblemDocument {
    return problemDocument(this.getStatus(), this.message, { slug: this.slug, title: this.title, extensions: this.extensions });
  }
}

export function problemType(slug: string): string {
  return PROBLEM_BASE + slug;
}

/** The status's name in sentence case, e.g. "Payload too large". */
function statusTitle(status: number): string {
  const name = (HttpStatus[status] as string | undefined) ?? STATUS_CODES[status];
  if (!name) return 'Error';
  const words = name.toLowerCase().replace(/_/g, ' ');
  return words[0].toUpperCase() + words.slice(1);
}

export interface ProblemOptions {
  /** The problem's `type` (default: the status's slug, else `http-error`). */
  slug?: string;
  /** Default: the status's name. */
  title?: string;
  /** Members beyond the standard ones, e.g. `errors`. */
  extensions?: Record<string, unknown>;
  instance?: string;
}

/** The problem document for `status`; every problem the hub answers with is built here. */
export function problemDocument(status: number, detail: string, options: ProblemOptions = {}): ProblemDocument {
  return {
    type: problemType(options.slug ?? STATUS_SLUGS[status] ?? 'http-error'),
    title: options.title ?? statusTitle(status),
    status,
    detail,
    ...options.extensions,
    ...(options.instance === undefined ? {} : { instance: options.instance }),
  };
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
  methodNotAllowed: (detail: string) => new ProblemException(HttpStatus.METHOD_NOT_ALLOWED, 'method-not-allowed', 'Method not allowed', detail),
  malformedCallback: (detail: string) => new ProblemException(HttpStatus.BAD_REQUEST, 'malformed-callback', 'Malformed callback', detail),
  unavailable: (detail: string, extensions?: Record<string, unknown>) =>
    new ProblemException(HttpStatus.SERVICE_UNAVAILABLE, 'unavailable', 'Service unavailable', detail, extensions),
};
