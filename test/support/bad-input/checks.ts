/** What every reply to bad input must be: never a 5xx, every refusal an RFC 9457 problem document. */

import type { RawAttack } from './raw-http';
import { type BadRequest, describeRequest, type HttpReply, preview } from './requests';

function header(reply: HttpReply, name: string): string | undefined {
  const v = reply.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** What is wrong with a reply to a request that must be refused (an empty list when all is well). */
export function problemViolations(method: string, reply: HttpReply, options: { allowSuccess?: boolean } = {}): string[] {
  const errors: string[] = [];
  if (reply.status >= 500) errors.push(`server error ${reply.status}`);
  else if (reply.status < 400 && !options.allowSuccess) errors.push(`not refused: ${reply.status}`);
  if (reply.status < 400) return errors;
  const type = header(reply, 'content-type') ?? '';
  if (!/^application\/problem\+json\s*(;|$)/i.test(type)) errors.push(`content-type is ${JSON.stringify(type)}, not application/problem+json`);
  if (method === 'HEAD') return errors;
  let doc: unknown;
  try {
    doc = JSON.parse(reply.body.toString('utf8'));
  } catch {
    return [...errors, `body is not JSON: ${JSON.stringify(preview(reply.body))}`];
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return [...errors, 'problem document is not an object'];
  const p = doc as Record<string, unknown>;
  if (typeof p.type !== 'string' || !/^[a-z][a-z0-9+.-]*:/i.test(p.type)) errors.push(`type ${JSON.stringify(p.type)} is not a URI`);
  if (typeof p.title !== 'string' || p.title === '') errors.push(`title ${JSON.stringify(p.title)}`);
  if (p.status !== reply.status) errors.push(`status member ${JSON.stringify(p.status)} differs from ${reply.status}`);
  if (typeof p.detail !== 'string') errors.push(`detail ${JSON.stringify(p.detail)}`);
  if (p.instance !== undefined && typeof p.instance !== 'string') errors.push(`instance ${JSON.stringify(p.instance)}`);
  return errors;
}

/** Throws unless the reply refuses the request with a 4xx problem document (and, when given, one of `statuses`). */
export function expectRefused(req: BadRequest, reply: HttpReply, statuses?: readonly number[]): void {
  const errors = problemViolations(req.method, reply);
  if (statuses && !statuses.includes(reply.status)) errors.push(`status ${reply.status}, expected one of ${statuses.join(', ')}`);
  if (errors.length) throw new Error(`${errors.join('; ')}\n  reply: ${reply.status} ${preview(reply.body)}\n  request: ${describeRequest(req)}`);
}

/** Throws on a 5xx, or on a 4xx that is not a problem document; a success is allowed (for noise that may be valid). */
export function expectNoServerError(req: BadRequest, reply: HttpReply): void {
  const errors = problemViolations(req.method, reply, { allowSuccess: true });
  if (errors.length) throw new Error(`${errors.join('; ')}\n  reply: ${reply.status} ${preview(reply.body)}\n  request: ${describeRequest(req)}`);
}

/** Throws unless every raw reply is a 4xx problem document (none at all only where the request was truncated). */
export function expectRawRefused(attack: RawAttack, replies: HttpReply[]): void {
  const where = `\n  raw request [${attack.why}]: ${JSON.stringify(preview(attack.bytes, 500))}`;
  if (replies.length === 0 && !attack.truncated) throw new Error(`no reply${where}`);
  for (const reply of replies) {
    const errors = problemViolations('POST', reply);
    if (errors.length) throw new Error(`${errors.join('; ')}\n  reply: ${reply.status} ${preview(reply.body)}${where}`);
  }
}
