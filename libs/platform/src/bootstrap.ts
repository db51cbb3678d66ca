import { DynamicModule, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { json, type NextFunction, type Request, type Response } from 'express';
import { serverSpans, tracingOn, type TracedRoute } from '@hookhub/tracing';
import { AppLogger } from './logging/app-logger';
import { problemDocument } from './problems/problem';
import { ProblemFilter } from './problems/problem.filter';
import { sendProblem } from './problems/problem-response';
import { answerProtocolErrorsWithProblems, jsonBodyGuard, requireHostHeader } from './problems/request-guards';
import { createValidationPipe } from './problems/validation';

const JSON_TYPES = ['application/json', 'application/*+json'];

export interface HttpAppOptions {
  /** Largest JSON body accepted; larger ones get a 413 problem document. */
  jsonLimit?: string;
  /** Routes that accept larger JSON bodies than `jsonLimit`, by path (a batch of events). */
  largerJsonBodies?: Record<string, string>;
  /** Deepest nesting of a JSON body (400 beyond it); default DEFAULT_MAX_JSON_DEPTH. */
  maxJsonDepth?: number;
  /** Answer 415 to bodies that are not JSON (admin APIs); provider-ingest takes any type. */
  requireJsonBodies?: boolean;
  /**
   * Keep every body as the exact bytes received, up to this size, instead of
   * parsing JSON: provider signatures are computed over those bytes.
   */
  rawBodyLimit?: string | ((app: NestExpressApplication) => string);
  /** Routes whose requests start an event's trace (a server span) when tracing is on; see docs/tracing.md. */
  tracedRoutes?: readonly TracedRoute[];
  /** Lets a test silence logs or replace the logger. */
  bufferLogs?: boolean;
  configure?: (app: NestExpressApplication) => void;
}

/**
 * Builds an app the same way in production and in tests: pino logger, problem
 * documents for every error, strict DTO validation and body size limits.
 *
 * A failure is thrown to the caller, not logged and turned into `process.exit(1)`
 * by Nest: the launcher (runApp) says in one line what is wrong, and a test
 * sees the error. The logs held while the app was built are written once the
 * app's own logger is in place; on a failure they are dropped with Nest's
 * stack trace of the error. Signals are handled by the launcher, which closes
 * the app (draining work) and says so.
 */
export async function createHttpApp(module: Type<unknown> | DynamicModule, options: HttpAppOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module, {
    bufferLogs: options.bufferLogs ?? true,
    autoFlushLogs: false,
    abortOnError: false,
    rawBody: true,
    bodyParser: false,
  });
  app.useLogger(new AppLogger(app.get(Logger)));
  app.flushLogs();
  answerProtocolErrorsWithProblems(app.getHttpServer());
  // First, so the span covers everything the request goes through; not even installed while tracing is off.
  if (options.tracedRoutes && tracingOn()) app.use(serverSpans(options.tracedRoutes));
  app.use(requireHostHeader);
  if (options.requireJsonBodies) app.use(requireJsonBodies);
  if (options.rawBodyLimit) {
    const limit = typeof options.rawBodyLimit === 'function' ? options.rawBodyLimit(app) : options.rawBodyLimit;
    app.useBodyParser('raw', { limit, type: () => true });
  } else {
    // Parsed first on their own paths; the general parser then finds the body already read.
    for (const [path, limit] of Object.entries(options.largerJsonBodies ?? {})) app.use(path, json({ limit, type: JSON_TYPES }));
    app.useBodyParser('json', { limit: options.jsonLimit ?? '256kb', type: JSON_TYPES });
    app.use(jsonBodyGuard(options.maxJsonDepth));
  }
  app.useGlobalFilters(new ProblemFilter());
  app.useGlobalPipes(createValidationPipe());
  app.disable('x-powered-by');
  app.set('etag', false);
  options.configure?.(app);
  return app;
}

function requireJsonBodies(req: Request, res: Response, next: NextFunction): void {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (!hasBody || req.is(JSON_TYPES)) return next();
  const detail = 'The request body must be JSON (Content-Type: application/json)';
  sendProblem(res, problemDocument(415, detail, { instance: req.originalUrl.split('?')[0] }));
}
