import type { IncomingHttpHeaders } from 'node:http';
import { ROOT_CONTEXT, TextMapGetter, TextMapSetter, trace } from '@opentelemetry/api';
import { TRACE_PARENT_HEADER, TRACE_STATE_HEADER, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { TraceContext } from './tracing';

/**
 * W3C Trace Context, and only it, on every hop: NATS message headers, the API's and provider-ingest's
 * requests, the webhook requests. One propagator instance, not the global one, so no other format
 * (baggage, b3) is read from a publisher or written to a receiver.
 */
const propagator = new W3CTraceContextPropagator();

/** The headers this lib reads and writes. */
export const TRACE_HEADERS: readonly string[] = [TRACE_PARENT_HEADER, TRACE_STATE_HEADER];

/** NATS message headers as nats.js builds them (`headers()`): set by exact name. */
export interface HeaderSink {
  set(name: string, value: string): void;
}

/** A received NATS message (`InboundMessage`): one header by name, undefined when absent. */
export interface HeaderSource {
  header(name: string): string | undefined;
}

export const headerSinkSetter: TextMapSetter<HeaderSink> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

/**
 * NATS header names are case-sensitive and other clients may send them capitalised (HTTP habits):
 * `traceparent` as W3C spells it, else `Traceparent`.
 */
export const headerSourceGetter: TextMapGetter<HeaderSource> = {
  get: (carrier, key) => carrier.header(key) ?? carrier.header(key.charAt(0).toUpperCase() + key.slice(1)),
  keys: () => [...TRACE_HEADERS],
};

/** A plain header record: the webhook request's headers. */
export const recordSetter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

/** Node's request headers (names already lower case), or any record named so: a kept `traceparent`. */
export const incomingHeadersGetter: TextMapGetter<IncomingHttpHeaders> = {
  get: (carrier, key) => carrier[key],
  keys: (carrier) => Object.keys(carrier),
};

/** Writes `traceparent` (and `tracestate` when there is one) of `context`'s span; nothing without a valid span. */
export function injectTrace<C>(context: TraceContext | undefined, carrier: C, setter: TextMapSetter<C>): void {
  if (context) propagator.inject(context, carrier, setter);
}

/**
 * The remote parent a carrier names, or undefined when it has no valid `traceparent` (absent, malformed,
 * or an all-zero id): the receiving side then starts a trace of its own.
 */
export function extractTrace<C>(carrier: C, getter: TextMapGetter<C>): TraceContext | undefined {
  const context = propagator.extract(ROOT_CONTEXT, carrier, getter);
  return trace.getSpanContext(context) ? context : undefined;
}

/**
 * The `traceparent` of `context`'s span, for keeping beside work that waits in PostgreSQL (a delivery); undefined
 * without a valid span. `tracestate` is not kept: it is vendor data for the next hop, not needed to join the trace.
 */
export function traceParentOf(context: TraceContext | undefined): string | undefined {
  const carrier: Record<string, string> = {};
  injectTrace(context, carrier, recordSetter);
  return carrier[TRACE_PARENT_HEADER];
}

/** The remote parent a kept `traceparent` names (see `traceParentOf`); undefined for none or an invalid one. */
export function traceFromParent(traceParent: string | null | undefined): TraceContext | undefined {
  return traceParent ? extractTrace({ [TRACE_PARENT_HEADER]: traceParent }, incomingHeadersGetter) : undefined;
}
