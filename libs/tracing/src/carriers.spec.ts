import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { headers as natsHeaders } from 'nats';
import {
  extractTrace,
  headerSinkSetter,
  headerSourceGetter,
  incomingHeadersGetter,
  injectTrace,
  recordSetter,
  traceFromParent,
  traceParentOf,
  type HeaderSource,
} from './carriers';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;

/** A context whose span is a remote one with these ids (no SDK needed to inject it). */
function contextWith(flags = TraceFlags.SAMPLED, traceState?: string) {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: flags,
    isRemote: true,
    ...(traceState ? { traceState: new TraceState(traceState) } : {}),
  });
}

/** A received message's headers, as InboundMessage.header reads them. */
const source = (headers: Record<string, string>): HeaderSource => ({ header: (name) => headers[name] });

describe('injectTrace', () => {
  it('writes traceparent (and tracestate when there is one) into a header record', () => {
    const wire: Record<string, string> = { 'X-Webhook-Signature': 'sha256=abc' };
    injectTrace(contextWith(TraceFlags.SAMPLED, 'vendor=a1'), wire, recordSetter);
    expect(wire).toEqual({ 'X-Webhook-Signature': 'sha256=abc', traceparent: TRACEPARENT, tracestate: 'vendor=a1' });
  });

  it('keeps the sampled flag as it is (00: the caller did not sample)', () => {
    const wire: Record<string, string> = {};
    injectTrace(contextWith(TraceFlags.NONE), wire, recordSetter);
    expect(wire).toEqual({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-00` });
  });

  it('writes nothing without a context or without a span in it', () => {
    const wire: Record<string, string> = {};
    injectTrace(undefined, wire, recordSetter);
    injectTrace(ROOT_CONTEXT, wire, recordSetter);
    expect(wire).toEqual({});
  });

  it('writes into NATS message headers that the receiving side reads back', () => {
    const h = natsHeaders();
    h.set('Content-Type', 'application/json');
    injectTrace(contextWith(TraceFlags.SAMPLED, 'vendor=a1'), h, headerSinkSetter);
    expect(h.get('traceparent')).toBe(TRACEPARENT);
    const back = extractTrace({ header: (name: string) => h.get(name) || undefined }, headerSourceGetter);
    expect(trace.getSpanContext(back!)).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED, isRemote: true });
    expect(trace.getSpanContext(back!)?.traceState?.serialize()).toBe('vendor=a1');
  });
});

describe('extractTrace', () => {
  it('reads a W3C traceparent from NATS headers, lower case or capitalised', () => {
    for (const name of ['traceparent', 'Traceparent']) {
      const context = extractTrace(source({ [name]: TRACEPARENT }), headerSourceGetter);
      expect({ name, span: trace.getSpanContext(context!) }).toEqual({
        name,
        span: expect.objectContaining({ traceId: TRACE_ID, spanId: SPAN_ID, isRemote: true }),
      });
    }
  });

  it('is undefined without a traceparent, or with one that is not valid: the receiver starts a trace of its own', () => {
    const invalid: Array<Record<string, string>> = [
      {},
      { traceparent: '' },
      { traceparent: 'garbage' },
      { traceparent: `00-${'0'.repeat(32)}-${SPAN_ID}-01` },
      { traceparent: `00-${TRACE_ID}-${'0'.repeat(16)}-01` },
      { traceparent: `ff-${TRACE_ID}-${SPAN_ID}-01` },
      { traceparent: `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01` },
      { tracestate: 'vendor=a1' },
    ];
    for (const headers of invalid) expect({ headers, context: extractTrace(source(headers), headerSourceGetter) }).toEqual({ headers, context: undefined });
  });

  it("reads Node's request headers, the first of repeated ones", () => {
    const context = extractTrace({ traceparent: [TRACEPARENT, `00-${'1'.repeat(32)}-${SPAN_ID}-01`], host: 'x' }, incomingHeadersGetter);
    expect(trace.getSpanContext(context!)?.traceId).toBe(TRACE_ID);
    expect(extractTrace({ host: 'x' }, incomingHeadersGetter)).toBeUndefined();
  });
});

describe('a traceparent kept beside a delivery', () => {
  it('is the span context in W3C form and comes back as a remote parent with the same ids and flags', () => {
    const kept = traceParentOf(contextWith(TraceFlags.SAMPLED, 'vendor=a1'));
    expect(kept).toBe(TRACEPARENT);
    const parent = trace.getSpanContext(traceFromParent(kept)!);
    expect(parent).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  });

  it('is nothing without a span, and an absent or malformed one names no parent', () => {
    expect(traceParentOf(undefined)).toBeUndefined();
    expect(traceParentOf(ROOT_CONTEXT)).toBeUndefined();
    expect(traceFromParent(null)).toBeUndefined();
    expect(traceFromParent('')).toBeUndefined();
    expect(traceFromParent('00-not-a-trace-01')).toBeUndefined();
    expect(traceFromParent(`00-${'0'.repeat(32)}-${SPAN_ID}-01`)).toBeUndefined();
  });
});
