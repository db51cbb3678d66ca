/**
 * Property-based bad-input testing (issue #6): arbitraries for malformed HTTP
 * requests and the invariants every one of them must satisfy.
 *
 *  - never a 5xx;
 *  - every 4xx is an RFC 9457 problem document (application/problem+json with
 *    `type`, `title`, `status` equal to the HTTP status and `detail`);
 *  - requests built to be invalid get a 4xx, never a 2xx/3xx;
 *  - nothing changes: no row of any table, no message in the test prefix's
 *    JetStream streams, no key on the built-in prototypes (the apps run in the
 *    test process, so prototype pollution would show there).
 *
 * The arbitraries are generic (bodies, headers, queries, path segments, raw
 * HTTP/1.1 framing); a suite combines them with its own routes and fixtures.
 * Runs use a fixed seed per group (BAD_INPUT_SEED overrides the base) and
 * BAD_INPUT_RUNS scales every group's number of runs (BAD_INPUT_RUNS=10 for a
 * long hunt); fast-check prints the seed, the path and the shrunk request of
 * a failure. BAD_INPUT_DEBUG=1 prints every reply and request on stderr.
 */
export * from './requests';
export * from './checks';
export * from './side-effects';
export * from './running';
export * from './values';
export * from './bodies';
export * from './headers';
export * from './urls';
export * from './raw-http';
