import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ProblemDocument, problemDocument, ProblemException } from './problem';
import { sendProblem } from './problem-response';

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
    sendProblem(res, problem);
  }

  toProblem(exception: unknown): ProblemDocument {
    if (exception instanceof ProblemException) return exception.document();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const message = typeof body === 'object' && body !== null && 'message' in body ? (body as { message: unknown }).message : body;
      const detail = Array.isArray(message) ? message.join('; ') : String(message ?? exception.message);
      return problemDocument(status, detail);
    }
    const status = connectStatus(exception);
    if (status && status < 500) {
      const e = exception as ErrorWithStatus;
      if (e.type === 'entity.parse.failed') return problemDocument(400, 'The request body is not valid JSON', { slug: 'malformed-json' });
      if (e.type === 'entity.too.large') return problemDocument(413, 'The request body exceeds the size limit');
      return problemDocument(status, e.expose === true ? String(e.message) : 'The request could not be processed');
    }
    return problemDocument(HttpStatus.INTERNAL_SERVER_ERROR, 'An unexpected error occurred', { slug: 'internal-error' });
  }
}
