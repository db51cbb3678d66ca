import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PROBLEM_CONTENT_TYPE, ProblemDocument, ProblemException, problemType } from './problem';

const SLUGS: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  406: 'not-acceptable',
  409: 'conflict',
  410: 'gone',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  422: 'unprocessable-entity',
  429: 'too-many-requests',
  503: 'unavailable',
};

interface ErrorWithStatus {
  status?: unknown;
  statusCode?: unknown;
  type?: unknown;
  message?: unknown;
  expose?: unknown;
}

/** Body-parser and other connect-style errors carry `status`/`statusCode` and an `expose` flag. */
function connectStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as ErrorWithStatus;
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  return status && status >= 400 && status < 600 ? status : undefined;
}

/**
 * Renders every error as an RFC 9457 problem document. Unexpected errors are
 * logged with their stack and answered with a generic 500 so internals never
 * leak to clients.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<Request>();
    const problem = this.toProblem(exception);
    problem.instance = req.originalUrl?.split('?')[0];
    if (problem.status >= 500) {
      this.logger.error({ err: exception, path: problem.instance }, 'request failed');
    }
    if (res.headersSent) return;
    res.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  }

  toProblem(exception: unknown): ProblemDocument {
    if (exception instanceof ProblemException) {
      return {
        type: exception.typeUri,
        title: exception.title,
        status: exception.getStatus(),
        detail: exception.message,
        ...exception.extensions,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const message =
        typeof body === 'object' && body !== null && 'message' in body ? (body as { message: unknown }).message : body;
      const detail = Array.isArray(message) ? message.join('; ') : String(message ?? exception.message);
      return this.generic(status, detail);
    }
    const status = connectStatus(exception);
    if (status && status < 500) {
      const e = exception as ErrorWithStatus;
      if (e.type === 'entity.parse.failed') return this.generic(400, 'The request body is not valid JSON', 'malformed-json');
      if (e.type === 'entity.too.large') return this.generic(413, 'The request body exceeds the size limit');
      return this.generic(status, e.expose === true ? String(e.message) : 'The request could not be processed');
    }
    return this.generic(HttpStatus.INTERNAL_SERVER_ERROR, 'An unexpected error occurred', 'internal-error');
  }

  private generic(status: number, detail: string, slug?: string): ProblemDocument {
    const title = (HttpStatus[status] ?? 'Error')
      .toString()
      .toLowerCase()
      .replace(/_/g, ' ')
      .replace(/^\w/, (c) => c.toUpperCase());
    return { type: problemType(slug ?? SLUGS[status] ?? 'http-error'), title, status, detail };
  }
}
