/** One invalid field of a request, as the hub's problem documents list them. */
export interface ProblemFieldError {
  /** JSON pointer as a URI fragment, e.g. `#/model/id`. */
  pointer: string;
  detail: string;
}

/** An RFC 9457 problem document as the hub sends it (`application/problem+json`). */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: ProblemFieldError[];
  /** Extension members, e.g. `event_id` and `retry_with_same_id` of `event-not-confirmed`. */
  [extension: string]: unknown;
}

/** Every error the SDK throws on purpose is one of these. */
export class HookhubError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The hub answered with an error status and a body that is not a problem document (a proxy's page, say). */
export class HookhubHttpError extends HookhubError {
  constructor(
    readonly status: number,
    /** The body as text, cut to 2,000 characters. */
    readonly body: string,
    /** How many requests were sent (more than one after retries). */
    readonly attempts: number,
    message = `Hookhub answered ${status}${body ? `: ${body.slice(0, 200)}` : ''}`,
  ) {
    super(message);
  }
}

/**
 * The hub refused a request with an RFC 9457 problem document. `type` is
 * stable (e.g. `https://hookhub.dev/problems/invalid-event`); `errors` names
 * each invalid field with a JSON pointer.
 */
export class HookhubProblemError extends HookhubHttpError {
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly instance?: string;
  readonly errors: ProblemFieldError[];
  /** The whole document, extension members included. */
  readonly problem: ProblemDocument;

  constructor(problem: ProblemDocument, attempts: number, body: string) {
    super(problem.status, body, attempts, `${problem.title} (${problem.status}): ${problem.detail}`);
    this.problem = problem;
    this.type = problem.type;
    this.title = problem.title;
    this.detail = problem.detail;
    this.instance = problem.instance;
    this.errors = problem.errors ?? [];
  }
}

/** No answer: the connection failed on every try. `cause` is the last network error. */
export class HookhubNetworkError extends HookhubError {
  constructor(
    message: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(message, { cause });
  }
}

/** No answer within the client's `timeoutMs`, on every try. */
export class HookhubTimeoutError extends HookhubError {
  constructor(
    readonly timeoutMs: number,
    readonly attempts: number,
  ) {
    super(`Hookhub did not answer within ${timeoutMs} ms (${attempts} ${attempts === 1 ? 'try' : 'tries'})`);
  }
}

/** An event that does not match its type's schema in the hub's catalogue; nothing was published. */
export class HookhubValidationError extends HookhubError {
  constructor(
    message: string,
    readonly errors: ProblemFieldError[],
  ) {
    super(message);
  }
}

/** Why a webhook did not verify. */
export type WebhookVerificationErrorCode =
  /** No secret was given, or an empty one. */
  | 'no_secret'
  /** A Standard Webhooks secret that is not `whsec_` + base64. */
  | 'invalid_secret'
  /** The request has no signature header of the scheme (or of any scheme). */
  | 'missing_signature'
  /** Standard Webhooks: `webhook-id` or `webhook-timestamp` missing, or the timestamp not an integer. */
  | 'missing_header'
  /** Standard Webhooks: the timestamp is further in the past than the tolerance: maybe a replay. */
  | 'timestamp_too_old'
  /** Standard Webhooks: the timestamp is further in the future than the tolerance. */
  | 'timestamp_too_new'
  /** No signature in the header matches any of the secrets. */
  | 'invalid_signature'
  /** The signature matched, but the body is not JSON. */
  | 'invalid_payload';

/** A webhook that must be refused (answer 400 or 401, and do not act on it). */
export class WebhookVerificationError extends HookhubError {
  constructor(
    readonly code: WebhookVerificationErrorCode,
    message: string,
  ) {
    super(message);
  }
}
