import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { contextOf, endSpan, SpanKind, startSpan, startTracing, tracingOn } from './tracing';
import { tracingDestination, tracingWanted } from './tracing-switch';

describe('tracingWanted: off unless an exporter or an endpoint is named', () => {
  const off = { OTEL_SDK_DISABLED: false };
  it.each([
    [{}, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, true],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
    [{ OTEL_TRACES_EXPORTER: 'console' }, true],
    [{ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, false],
    [{ OTEL_SDK_DISABLED: true, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, false],
  ])('%j: %s', (settings, wanted) => {
    expect(tracingWanted({ ...off, ...settings })).toBe(wanted);
  });
});

describe('tracingDestination', () => {
  it("names the collector's origin only (a path or user info could hold a credential)", () => {
    expect(tracingDestination({ OTEL_SDK_DISABLED: false, OTEL_EXPORTER_OTLP_ENDPOINT: 'https://user:pw@otlp.example.com:443/tenant/t0ken' })).toBe(
      'https://otlp.example.com (OTLP http/protobuf)',
    );
    expect(tracingDestination({ OTEL_SDK_DISABLED: false, OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toBe(
      'http://localhost:4317 (OTLP grpc)',
    );
    expect(tracingDestination({ OTEL_SDK_DISABLED: false, OTEL_TRACES_EXPORTER: 'console' })).toBe('stdout (console exporter)');
  });
});

describe('startTracing', () => {
  it('makes no span before it starts or after its shutdown, and real ones in between', async () => {
    expect(tracingOn()).toBe(false);
    expect(startSpan('before', SpanKind.INTERNAL, undefined)).toBeUndefined();

    const exporter = new InMemorySpanExporter();
    const tracing = await startTracing({ serviceName: 'hookhub-test', spanProcessors: [new SimpleSpanProcessor(exporter)], detectResources: false });
    expect(tracingOn()).toBe(true);
    const parent = startSpan('parent', SpanKind.SERVER, undefined);
    const child = startSpan('child', SpanKind.CLIENT, contextOf(parent), { 'hookhub.attempt': 2 });
    endSpan(child, 'endpoint answered 503', '503');
    endSpan(parent);
    // Read before the shutdown: the in-memory exporter forgets its spans when it is shut down.
    const [c, p] = exporter.getFinishedSpans();
    await tracing.shutdown();

    expect(tracingOn()).toBe(false);
    expect(startSpan('after', SpanKind.INTERNAL, undefined)).toBeUndefined();
    expect(p.name).toBe('parent');
    expect(p.resource.attributes['service.name']).toBe('hookhub-test');
    expect(c).toMatchObject({ name: 'child', kind: SpanKind.CLIENT, status: { code: 2, message: 'endpoint answered 503' } });
    expect(c.attributes).toEqual({ 'hookhub.attempt': 2, 'error.type': '503' });
    expect(c.spanContext().traceId).toBe(p.spanContext().traceId);
    expect(c.parentSpanContext?.spanId).toBe(p.spanContext().spanId);
  });

  it('can start again after a shutdown (a second SDK registers its own provider)', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = await startTracing({ serviceName: 'again', spanProcessors: [new SimpleSpanProcessor(exporter)], detectResources: false });
    endSpan(startSpan('again', SpanKind.INTERNAL, undefined));
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['again']);
    await tracing.shutdown();
  });
});
