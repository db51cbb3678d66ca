import { Attributes, Context, ContextManager, ROOT_CONTEXT, Span, SpanKind, SpanStatusCode, trace, Tracer } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * Where a span's children hang: the OpenTelemetry context of a span (one of ours, or a remote one read
 * from `traceparent`). Handed along explicitly (a job, a message header), never through an ambient context.
 */
export type TraceContext = Context;

/** The process's tracer while tracing runs; undefined otherwise, which is what every call site checks first. */
let tracer: Tracer | undefined;

/** Whether spans are made: only between `startTracing` and the shutdown of what it returned. */
export function tracingOn(): boolean {
  return tracer !== undefined;
}

export interface TracingOptions {
  /** `service.name` of every span (OTEL_SERVICE_NAME, or hookhub-<app>). */
  serviceName: string;
  /**
   * Where finished spans go. Unset: what the OTEL_* variables name (OTLP over HTTP by default, batched by
   * the OTEL_BSP_* settings). Tests pass a SimpleSpanProcessor on an InMemorySpanExporter.
   */
  spanProcessors?: SpanProcessor[];
  /** Resource detection (host, process, OTEL_RESOURCE_ATTRIBUTES); on unless a test turns it off. */
  detectResources?: boolean;
}

export interface RunningTracing {
  /** Exports what is still buffered and stops making spans. */
  shutdown(): Promise<void>;
}

/**
 * The context manager the SDK gets: none that does anything. Hookhub passes every parent explicitly.
 * The default (AsyncLocalStorage) would be switched on by the span processor's first export
 * (`context.with`), after which Node 20 runs async hooks on every promise of the process: a cost on
 * the whole app for a feature nothing here uses.
 */
class ExplicitContextOnly implements ContextManager {
  active(): Context {
    return ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(_context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return fn.call(thisArg, ...args);
  }
  bind<T>(_context: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    return this;
  }
}

/**
 * Starts the OpenTelemetry Node SDK for traces only: no metrics or logs exporters (the SDK would
 * start OTLP ones by default), no auto-instrumentation (a few manual spans cost less), and no global
 * propagator: traceparent and tracestate are read and written by this lib's carriers alone, so
 * baggage or other formats never leak to receivers. The SDK is loaded here, not with this module:
 * it brings every exporter it knows (gRPC included), about 100 ms and 25 MB that an app with tracing
 * off does not pay.
 */
export async function startTracing(options: TracingOptions): Promise<RunningTracing> {
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    autoDetectResources: options.detectResources ?? true,
    contextManager: new ExplicitContextOnly(),
    textMapPropagator: null,
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors } : {}),
  });
  sdk.start();
  tracer = trace.getTracer('hookhub');
  let stopped: Promise<void> | undefined;
  return {
    shutdown: () =>
      (stopped ??= (async () => {
        tracer = undefined;
        try {
          await sdk.shutdown();
        } finally {
          // Unregisters the global provider, so a later startTracing (a test) registers its own.
          trace.disable();
        }
      })()),
  };
}

/** A span, when tracing is on; `parent` undefined starts a trace. */
export function startSpan(name: string, kind: SpanKind, parent: TraceContext | undefined, attributes?: Attributes, startTime?: number): Span | undefined {
  return tracer?.startSpan(name, { kind, attributes, startTime }, parent ?? ROOT_CONTEXT);
}

/** The context whose children `span` parents (undefined when there is no span). */
export function contextOf(span: Span | undefined): TraceContext | undefined {
  return span && trace.setSpan(ROOT_CONTEXT, span);
}

/** Adds attributes to the span `context` names (a request's span, from a service that learns more than the route knew). */
export function annotate(context: TraceContext | undefined, attributes: Attributes): void {
  if (context) trace.getSpan(context)?.setAttributes(attributes);
}

/**
 * Ends a span; with `failure`, as an error whose description is that short text (never a payload or a
 * URL: error messages here are the hub's own) and whose `error.type` is `errorType` or the text itself.
 */
export function endSpan(span: Span | undefined, failure?: string | null, errorType?: string): void {
  if (!span) return;
  if (failure) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
    span.setAttribute('error.type', errorType ?? failure);
  }
  span.end();
}

export { SpanKind, type Attributes, type Span };
