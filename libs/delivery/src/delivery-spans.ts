import type { InboundMessage } from '@hookhub/jetstream';
import { Attributes, extractTrace, headerSourceGetter, Span, SpanKind, startSpan } from '@hookhub/tracing';
import type { SendResult } from './webhook-sender';

/**
 * The dispatcher's spans (docs/tracing.md). Callers check `tracingOn()` first, so none of this runs
 * while tracing is off. Attributes name what was delivered where (ids, host, status), never a body,
 * a header value or a URL's path or query (webhook URLs often carry a token there). Each attribute
 * costs on every span (checked, kept, serialised): what the parent span already says is not repeated.
 */

/**
 * The consumer span of one message from the events or retries stream, continuing the trace its
 * `traceparent` header names (the API's publish, a retry job's, or a publisher's own); a message
 * without one starts a trace.
 */
export function processSpan(name: 'process events' | 'process retries', msg: InboundMessage, attributes: Attributes = {}): Span | undefined {
  return startSpan(name, SpanKind.CONSUMER, extractTrace(msg, headerSourceGetter), {
    'messaging.system': 'nats',
    'messaging.operation.name': 'process',
    'messaging.operation.type': 'process',
    'messaging.destination.name': msg.subject,
    // No delivery count: reading it parses the message's reply subject, a cost on every message for a rare case.
    ...attributes,
  });
}

/** Host, port and scheme of a webhook URL, parsed once per URL (a pod sends to few of them, many times). */
const endpoints = new Map<string, Attributes>();

function endpointOf(url: string): Attributes {
  let found = endpoints.get(url);
  if (!found) {
    try {
      const u = new URL(url);
      const scheme = u.protocol.replace(':', '');
      found = { 'server.address': u.hostname, 'server.port': u.port ? Number(u.port) : scheme === 'https' ? 443 : 80, 'url.scheme': scheme };
    } catch {
      found = {};
    }
    if (endpoints.size >= 10_000) endpoints.clear();
    endpoints.set(url, found);
  }
  return found;
}

export interface AttemptSpanSource {
  deliveryId: string;
  subscriptionId: string;
  attempt: number;
  url: string;
}

/** The HTTP client span of one attempt: its context is the `traceparent` the receiver gets. */
export function attemptSpan(a: AttemptSpanSource, parent: Parameters<typeof startSpan>[2]): Span | undefined {
  return startSpan('POST', SpanKind.CLIENT, parent, {
    'http.request.method': 'POST',
    ...endpointOf(a.url),
    ...(a.attempt > 1 ? { 'http.request.resend_count': a.attempt - 1 } : {}),
    'hookhub.delivery.id': a.deliveryId,
    'hookhub.subscription.id': a.subscriptionId,
    'hookhub.attempt': a.attempt,
  });
}

/** `error.type` of a failed attempt: the status, or the kind of failure without its details. */
export function attemptErrorType(result: SendResult): string {
  if (result.status !== null) return String(result.status);
  const error = result.error ?? '';
  if (error.includes('timed out')) return 'timeout';
  if (error.startsWith('unsafe URL') || error.includes('non-public address')) return 'unsafe_destination';
  return /^([A-Z][A-Z0-9_]+):/.exec(error)?.[1] ?? '_OTHER';
}
