// Tracing (OpenTelemetry, docs/tracing.md): the SDK's start and stop, a few manual spans, and the W3C
// trace context on every hop (HTTP requests in and out, NATS message headers). Off unless OTEL_* asks for it.
export {
  annotate,
  contextOf,
  endSpan,
  SpanKind,
  startSpan,
  startTracing,
  tracingOn,
  type Attributes,
  type RunningTracing,
  type Span,
  type TraceContext,
  type TracingOptions,
} from './tracing';
export { tracingDestination, tracingWanted, type TracingSwitch } from './tracing-switch';
export {
  extractTrace,
  headerSinkSetter,
  headerSourceGetter,
  incomingHeadersGetter,
  injectTrace,
  recordSetter,
  TRACE_HEADERS,
  traceFromParent,
  traceParentOf,
  type HeaderSink,
  type HeaderSource,
} from './carriers';
export { RequestTrace, serverSpans, traceOfRequest, type TracedRoute } from './server-span';
