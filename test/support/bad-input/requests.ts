/** The requests the suites send and the replies they get, as they are on the wire. */
import { connect as netConnect } from 'node:net';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { Pool } from 'undici';

/** One generated request; `why` says what makes it invalid (or `noise:` when it may be valid). */
export interface BadRequest {
  method: string;
  /** Path and query exactly as sent: nothing is normalised or re-encoded. */
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array | string | (() => AsyncIterable<Uint8Array>);
  why: string;
}

/** Makes fast-check print a request compactly (bodies can be hundreds of kilobytes). */
export function request(r: BadRequest): BadRequest {
  Object.defineProperty(r, fc.toStringMethod, { enumerable: false, value: () => describeRequest(r) });
  return r;
}

export function describeRequest(r: BadRequest): string {
  const body =
    r.body === undefined
      ? ''
      : typeof r.body === 'function'
        ? ' <streamed body>'
        : ` body(${typeof r.body === 'string' ? Buffer.byteLength(r.body) : r.body.length} bytes)=${JSON.stringify(preview(r.body))}`;
  const headers = Object.entries(r.headers).map(([k, v]) => `${k}: ${JSON.stringify(preview(v))}`);
  return `[${r.why}] ${r.method} ${preview(r.path)} {${headers.join(', ')}}${body}`;
}

/** The start of a body or reply, for error messages (bodies can be hundreds of kilobytes). */
export function preview(v: string | Uint8Array, max = 300): string {
  const s = typeof v === 'string' ? v : Buffer.from(v).toString('latin1');
  return s.length > max ? `${s.slice(0, max)}…(+${s.length - max})` : s;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Sends requests without any client-side normalisation (undici), or as raw bytes on a socket. */
export class BadInputClient {
  private readonly pool: Pool;
  readonly host: string;
  readonly port: number;

  constructor(readonly origin: string) {
    const url = new URL(origin);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.pool = new Pool(origin, { connections: 4, headersTimeout: 20_000, bodyTimeout: 20_000 });
  }

  async send(req: BadRequest): Promise<HttpReply> {
    const body = typeof req.body === 'function' ? Readable.from(req.body()) : req.body;
    const res = await this.pool.request({ method: req.method, path: req.path, headers: req.headers, body });
    const buf = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, headers: res.headers, body: buf };
  }

  /**
   * Writes bytes on a fresh connection and parses every response that comes
   * back before the server closes it (or `idleMs` pass without data).
   * `halfClose` ends the client's side after writing (a truncated request).
   */
  sendRaw(bytes: Buffer | string, options: { halfClose?: boolean; idleMs?: number } = {}): Promise<HttpReply[]> {
    return new Promise((resolve, reject) => {
      const socket = netConnect(this.port, this.host);
      const chunks: Buffer[] = [];
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.destroy();
        try {
          resolve(parseResponses(Buffer.concat(chunks)));
        } catch (err) {
          reject(err);
        }
      };
      const idle = () => {
        clearTimeout(timer);
        timer = setTimeout(finish, options.idleMs ?? 1_000);
      };
      socket.on('data', (c: Buffer) => {
        chunks.push(c);
        idle();
      });
      socket.on('error', () => undefined);
      socket.on('close', finish);
      socket.on('connect', () => {
        socket.write(bytes);
        if (options.halfClose) socket.end();
        idle();
      });
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Parses HTTP/1.1 responses as they came off the wire (Content-Length, chunked or until close). */
export function parseResponses(data: Buffer): HttpReply[] {
  const replies: HttpReply[] = [];
  let rest = data;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) throw new Error(`incomplete response head: ${JSON.stringify(rest.toString('latin1').slice(0, 200))}`);
    const [statusLine, ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(statusLine)}`);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    let body: Buffer;
    rest = rest.subarray(end + 4);
    if (Number(m[1]) < 200) continue; // 100 Continue and other interim responses have no body
    if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        const size = parseInt(rest.subarray(0, lineEnd).toString('latin1'), 16);
        rest = rest.subarray(lineEnd + 2);
        if (!size) {
          rest = rest.subarray(rest.indexOf('\r\n') + 2);
          break;
        }
        parts.push(rest.subarray(0, size));
        rest = rest.subarray(size + 2);
      }
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      body = rest.subarray(0, n);
      rest = rest.subarray(n);
    } else {
      body = rest;
      rest = Buffer.alloc(0);
    }
    replies.push({ status: Number(m[1]), headers, body });
  }
  return replies;
}
