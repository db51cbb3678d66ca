/** The OTEL_* settings that decide whether tracing runs at all (validated by the apps' configuration). */
export interface TracingSwitch {
  OTEL_SDK_DISABLED: boolean;
  OTEL_TRACES_EXPORTER?: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
}

/**
 * Off unless asked for: an exporter named (`otlp`, `console`) or an OTLP endpoint set. The SDK alone
 * would start with an OTLP exporter to localhost:4318 whenever it is loaded; here a deployment that
 * sets nothing starts no SDK and makes no spans. OTEL_SDK_DISABLED and `none` win over everything.
 */
export function tracingWanted(s: TracingSwitch): boolean {
  if (s.OTEL_SDK_DISABLED || s.OTEL_TRACES_EXPORTER === 'none') return false;
  return s.OTEL_TRACES_EXPORTER !== undefined || s.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || s.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined;
}

/**
 * Where spans go, for the start-up line: the exporter and the collector's origin (scheme, host and port:
 * a path or user info could hold a credential).
 */
export function tracingDestination(s: TracingSwitch & { OTEL_EXPORTER_OTLP_PROTOCOL?: string }): string {
  if (s.OTEL_TRACES_EXPORTER === 'console') return 'stdout (console exporter)';
  const endpoint = s.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? s.OTEL_EXPORTER_OTLP_ENDPOINT;
  const protocol = s.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  let origin = protocol === 'grpc' ? 'http://localhost:4317' : 'http://localhost:4318';
  if (endpoint) {
    try {
      origin = new URL(endpoint).origin;
    } catch {
      origin = 'an endpoint that is not a URL';
    }
  }
  return `${origin} (OTLP ${protocol})`;
}
