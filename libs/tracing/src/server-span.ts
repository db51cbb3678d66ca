import type { IncomingMessage, ServerResponse } from 'node:http';
import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { extractTrace, incomingHeadersGetter } from './carriers';
import { contextOf, endSpan, SpanKind, startSpan, tracingOn, TraceContext } from './tracing';

/** A route whose requests get a server span: the ones that start an event's trace. */
export interface TracedRoute {
  method: string;
  /** The path the request must have, exactly or by pattern (without the query string). */
  path: string | RegExp;
  /** `http.route`, the route's template (`/ingest/:provider/:connectionId`): the span's name, never a concrete path. */
  route: string;
}

const TRACE = Symbol('hookhub.trace');
type TracedRequest = IncomingMessage & { [TRACE]?: TraceContext };

/**
 * An HTTP middleware that gives each request of `routes` a server span, continuing the caller's trace
 * when it sends `traceparent`. The span ends when the response does, with its status (5xx is an error,
 * 4xx is the caller's). Attributes: method, route, path and scheme, status; no query string (providers
 * put tokens there), no headers, no body.
 */
export function serverSpans(routes: readonly TracedRoute[]): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    if (!tracingOn()) return next();
    const path = (req.url ?? '/').split('?', 1)[0];
    const route = routes.find((r) => r.method === req.method && (typeof r.path === 'string' ? r.path === path : r.path.test(path)));
    if (!route) return next();
    const span = startSpan(`${route.method} ${route.route}`, SpanKind.SERVER, extractTrace(req.headers, incomingHeadersGetter), {
      'http.request.method': route.method,
      'http.route': route.route,
      'url.path': path,
      'url.scheme': (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
    });
    (req as TracedRequest)[TRACE] = contextOf(span);
    res.once('close', () => {
      const status = res.statusCode;
      span?.setAttribute('http.response.status_code', status);
      if (!res.writableFinished) endSpan(span, 'the connection closed before the response was sent', 'aborted');
      else endSpan(span, status >= 500 ? `answered ${status}` : null, String(status));
    });
    next();
  };
}

/** The trace a request's server span started (undefined when tracing is off or the route is not traced). */
export function traceOfRequest(req: IncomingMessage): TraceContext | undefined {
  return (req as TracedRequest)[TRACE];
}

/** A controller parameter: the request's trace, to hand to what the request starts (a publish). */
export const RequestTrace = createParamDecorator((_data: unknown, ctx: ExecutionContext): TraceContext | undefined =>
  traceOfRequest(ctx.switchToHttp().getRequest<IncomingMessage>()),
);
