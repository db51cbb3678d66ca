/** Raw HTTP/1.1 requests whose framing is broken, written byte by byte on a socket. */
import fc from 'fast-check';

export interface RawAttack {
  bytes: Buffer;
  /** The request was cut short on purpose: the server may close without answering. */
  truncated: boolean;
  why: string;
}

/**
 * HTTP/1.1 framing a server must refuse, for a request line and headers that
 * would otherwise reach `method path` with `headers`: broken Content-Length,
 * Content-Length with Transfer-Encoding, broken chunking, bad header syntax,
 * control characters, an unknown Expect, a missing Host, huge headers, odd
 * request lines, truncation, junk pipelined after the request. The body is
 * always malformed JSON, so even a server that misread the framing would not
 * see a valid request.
 */
export function rawFramingAttack(method: string, path: string, headers: Record<string, string>): fc.Arbitrary<RawAttack> {
  const head = (extra: string[] = [], line = `${method} ${path} HTTP/1.1`, host = true) =>
    [line, ...(host ? ['Host: 127.0.0.1'] : []), ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), ...extra].join('\r\n');
  const body = '{"a":'; // a prefix of a JSON object: never a complete document
  const a = (text: string | Buffer, why: string, truncated = false): RawAttack => ({
    bytes: Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1'),
    why,
    truncated,
  });
  return fc.oneof(
    fc
      .constantFrom('abc', '-1', '1.5', '0x5', '+5', '5 5', '5,5', '5, 6', '99999999999999999999999', '')
      .map((cl) => a(`${head([`Content-Length: ${cl}`, 'Connection: close'])}\r\n\r\n${body}`, `Content-Length: ${JSON.stringify(cl)}`)),
    fc.constant(a(`${head(['Content-Length: 5', 'Content-Length: 6', 'Connection: close'])}\r\n\r\n${body}x`, 'two different Content-Lengths')),
    fc.constant(
      a(
        `${head(['Content-Length: 5', 'Transfer-Encoding: chunked', 'Connection: close'])}\r\n\r\n5\r\n${body}\r\n0\r\n\r\n`,
        'Content-Length with Transfer-Encoding',
      ),
    ),
    fc
      .constantFrom('zz', '-5', '5;', '5 x', 'ffffffffffffffffff', '')
      .map((size) =>
        a(`${head(['Transfer-Encoding: chunked', 'Connection: close'])}\r\n\r\n${size}\r\n${body}\r\n0\r\n\r\n`, `chunk size ${JSON.stringify(size)}`),
      ),
    fc
      .constantFrom('gzip', 'chunked, gzip', 'identity', 'chunked, chunked', 'x')
      .map((te) => a(`${head([`Transfer-Encoding: ${te}`, 'Connection: close'])}\r\n\r\n5\r\n${body}\r\n0\r\n\r\n`, `Transfer-Encoding: ${te}`)),
    fc.constant(a(`${head(['Transfer-Encoding: chunked'])}\r\n\r\n5\r\n${body}\r\n`, 'chunked body never finished', true)),
    fc.integer({ min: 6, max: 1_000 }).map((cl) => a(`${head([`Content-Length: ${cl}`])}\r\n\r\n${body}`, `body shorter than Content-Length ${cl}`, true)),
    fc
      .integer({ min: 1, max: 4 })
      .map((cl) =>
        a(
          `${head([`Content-Length: ${cl}`])}\r\n\r\n${body}GET / HTTP/1.1\r\nConnection: close\r\n\r\n`,
          `body longer than Content-Length ${cl}, junk pipelined`,
        ),
      ),
    fc
      .constantFrom('X-A : b', 'X-A\t: b', ' X-A: b', 'X A: b', 'X-A', ': b', 'X-A: b\rc', 'Content-Length : 5')
      .map((h) => a(`${head([h, 'Content-Length: 5', 'Connection: close'])}\r\n\r\n${body}`, `bad header line ${JSON.stringify(h)}`)),
    fc
      .integer({ min: 0, max: 0x1f })
      .filter((c) => c !== 9)
      .map((c) =>
        a(
          `${head([`X-A: a${String.fromCharCode(c)}b`, 'Content-Length: 5', 'Connection: close'])}\r\n\r\n${body}`,
          `control character 0x${c.toString(16)} in a header value`,
        ),
      ),
    fc.constant(a(`${head(['X-A: a\x7fb', 'Content-Length: 5', 'Connection: close'])}\r\n\r\n${body}`, 'DEL in a header value')),
    fc
      .constantFrom('foo', '200-ok', '100-continue, foo')
      .map((e) => a(`${head([`Expect: ${e}`, 'Content-Length: 5', 'Connection: close'])}\r\n\r\n${body}`, `Expect: ${e}`)),
    fc.constant(a(`${head(['Content-Length: 5', 'Connection: close'], undefined, false)}\r\n\r\n${body}`, 'no Host header')),
    fc.constant(a(`${head(['Host: other.example', 'Content-Length: 5', 'Connection: close'])}\r\n\r\n${body}`, 'two Host headers')),
    fc
      .integer({ min: 17_000, max: 40_000 })
      .map((n) => a(`${head([`X-Big: ${'a'.repeat(n)}`, 'Content-Length: 5', 'Connection: close'])}\r\n\r\n${body}`, `header of ${n} bytes`)),
    fc
      .integer({ min: 17_000, max: 40_000 })
      .map((n) =>
        a(`${head(['Content-Length: 5', 'Connection: close'], `${method} ${path}?${'a'.repeat(n)} HTTP/1.1`)}\r\n\r\n${body}`, `request line of ${n} bytes`),
      ),
    fc
      .constantFrom(
        `${method.toLowerCase()} ${path} HTTP/1.1`,
        `${method}  ${path} HTTP/1.1`,
        `${method} ${path} HTTP/1.1 extra`,
        `${method} ${path} HTTP/9.9`,
        `${method} ${path} HTTP/1.x`,
        `${method} ${path} http/1.1`,
        `${method} ${path}\tHTTP/1.1`,
        `${method}${path} HTTP/1.1`,
        `${method} ${path.replace('/', '/ ')} HTTP/1.1`,
      )
      .map((line) => a(`${head(['Content-Length: 5', 'Connection: close'], line)}\r\n\r\n${body}`, `request line ${JSON.stringify(line)}`)),
    fc
      .constantFrom(0x00, 0x7f, 0x80, 0xff, 0x0b, 0x0c)
      .map((c) =>
        a(
          Buffer.concat([
            Buffer.from(`${method} ${path}`),
            Buffer.from([c]),
            Buffer.from(`x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\n${body}`),
          ]),
          `byte 0x${c.toString(16)} in the request target`,
        ),
      ),
    fc.constant(a(`${head(['Content-Length: 5', 'Connection: close']).replace(/\r\n/g, '\n')}\n\n${body}`, 'bare LF line endings')),
    fc.nat().map((n) => {
      const full = `${head(['Content-Length: 5'])}\r\n\r\n${body}`;
      return a(full.slice(0, n % full.length), 'cut off inside the head', true);
    }),
    fc.constant(
      a(
        `${head(['Content-Length: 5', 'Connection: close'], `${method} http://evil.example${path} HTTP/1.1`)}\r\n\r\n${body}`,
        'absolute-form target, malformed body',
      ),
    ),
    fc.constant(
      a(`${head(['Content-Length: 5', 'Connection: close', 'Upgrade: websocket', 'Connection: Upgrade'])}\r\n\r\n${body}`, 'Upgrade request, malformed body'),
    ),
  );
}
