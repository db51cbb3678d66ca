import { isUtf8 } from 'node:buffer';
import { STATUS_CODES } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { HttpStatus } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { problemDocument, ProblemException } from './problem';
import { problemResponseText, sendProblem } from './problem-response';

/** Deepest nesting of objects and arrays a JSON body may have (the validation pipe recurses into it). */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/**
 * Keys the validation pipe would drop without a word: Nest strips `__proto__`,
 * `constructor` and `prototype`, and class-transformer skips keys that name an
 * inherited method (`toString`, `valueOf`…) at any depth, so `{"status_map":
 * {"toString": [1]}}` became a valid `{}` instead of a 400.
 */
const DROPPED_KEYS = new Set(['__proto__', 'constructor', 'prototype', ...Object.getOwnPropertyNames(Object.prototype)]);

/**
 * What makes a parsed JSON body unacceptable although it parsed: nesting
 * deeper than `maxDepth` objects/arrays, U+0000 in a string or key (no
 * PostgreSQL text or jsonb column can store it), or a key the validation pipe
 * would silently drop. Iterative, so any depth is safe.
 */
export function jsonBodyDefect(value: unknown, maxDepth: number): string | undefined {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return 'The JSON body contains a NUL character (\\u0000)';
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth > maxDepth) return `The JSON body nests deeper than ${maxDepth} levels`;
    for (const [key, child] of Object.entries(v)) {
      if (key.includes('\u0000')) return 'The JSON body contains a NUL character (\\u0000)';
      if (DROPPED_KEYS.has(key)) return `The JSON body uses the reserved key "${key}"`;
      if (typeof child === 'string' || (typeof child === 'object' && child !== null)) stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

function declaresUtf8(req: Request): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase() ?? 'utf-8';
  return charset === 'utf-8' || charset === 'utf8';
}

/**
 * Runs after the JSON body parser. JSON must be UTF-8 (RFC 8259), but the
 * parser silently turns invalid bytes into U+FFFD; a deeply nested document
 * would overflow the stack of the validation pipe; U+0000 cannot be stored;
 * some keys would be dropped. Each was a 500 or a silently altered value;
 * each is a 400 problem document.
 */
export function jsonBodyGuard(maxDepth = DEFAULT_MAX_JSON_DEPTH) {
  return (req: Request & { rawBody?: unknown }, _res: Response, next: NextFunction): void => {
    if (typeof req.body !== 'object' || req.body === null) return next();
    const defect =
      Buffer.isBuffer(req.rawBody) && declaresUtf8(req) && !isUtf8(req.rawBody) ? 'The request body is not valid UTF-8' : jsonBodyDefect(req.body, maxDepth);
    next(defect === undefined ? undefined : new ProblemException(HttpStatus.BAD_REQUEST, 'malformed-json', 'Bad request', defect));
  };
}

/**
 * What Node's HTTP server answers by itself — requests its parser refuses
 * (broken Content-Length or chunking, bad header syntax, headers too large),
 * HTTP/1.1 requests without Host, an Expect it does not know — it answers
 * without a body. These handlers answer the same statuses with problem
 * documents. Call before the app handles requests; `app.use(requireHostHeader)`
 * must come first among the middleware.
 */
export function answerProtocolErrorsWithProblems(server: Server): void {
  // requireHostHeader below checks it instead, so that the answer is a problem document too.
  (server as Server & { requireHostHeader?: boolean }).requireHostHeader = false;
  server.on('clientError', (err: NodeJS.ErrnoException & { reason?: string }, socket: Duplex) => {
    // Same rule as Node's default: answer only if nothing of a response was written on this socket yet.
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (err.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
      const status =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? 431
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? HttpStatus.REQUEST_TIMEOUT
            : err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
              ? HttpStatus.PAYLOAD_TOO_LARGE
              : HttpStatus.BAD_REQUEST;
      const detail =
        status === HttpStatus.BAD_REQUEST ? `The request is not valid HTTP/1.1${err.reason ? ` (${err.reason})` : ''}` : (STATUS_CODES[status] ?? 'Error');
      socket.write(problemResponseText(problemDocument(status, detail)));
    }
    socket.destroy();
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const problem = problemDocument(HttpStatus.EXPECTATION_FAILED, `Expect: ${req.headers.expect} is not supported`, { instance: req.url?.split('?')[0] });
    sendProblem(res, problem, { closeConnection: true });
  });
}

/** RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request without Host. */
export function requireHostHeader(req: Request, res: Response, next: NextFunction): void {
  if (req.httpVersionMajor === 1 && req.httpVersionMinor === 1 && req.headers.host === undefined) {
    const problem = problemDocument(HttpStatus.BAD_REQUEST, 'An HTTP/1.1 request needs a Host header', { instance: req.originalUrl.split('?')[0] });
    return sendProblem(res, problem, { closeConnection: true });
  }
  next();
}
