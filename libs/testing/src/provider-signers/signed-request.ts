/**
 * A provider callback built and signed the way the provider builds it (with
 * the provider's own SDK where one exists). `url` is absolute: the public URL
 * the connection is configured with plus the query string. Unit specs feed it
 * to an adapter; end-to-end specs send it to a running provider-ingest.
 */
export interface SignedRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}
