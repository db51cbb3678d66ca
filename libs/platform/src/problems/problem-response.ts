import { STATUS_CODES } from 'node:http';
import type { ServerResponse } from 'node:http';
import { PROBLEM_CONTENT_TYPE, ProblemDocument } from './problem';

const CONTENT_TYPE = `${PROBLEM_CONTENT_TYPE}; charset=utf-8`;

/**
 * Answers with a problem document: the one writer of problem responses (the
 * exception filter, the request guards, readiness). Works on a bare Node
 * response as well as Express's, since some guards run before Express.
 * `closeConnection` for requests after which the connection cannot be trusted.
 */
export function sendProblem(res: ServerResponse, problem: ProblemDocument, options: { closeConnection?: boolean } = {}): void {
  const body = JSON.stringify(problem);
  res.statusCode = problem.status;
  res.setHeader('Content-Type', CONTENT_TYPE);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  if (options.closeConnection) res.setHeader('Connection', 'close');
  res.end(body);
}

/** The same answer as raw HTTP/1.1, for a socket without a response object (a request Node's parser refused); closes the connection. */
export function problemResponseText(problem: ProblemDocument): string {
  const body = JSON.stringify(problem);
  return `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nContent-Type: ${CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
