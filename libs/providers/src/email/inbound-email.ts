import { createHash } from 'node:crypto';
import { simpleParser, type AddressObject, type EmailAddress, type ParsedMail } from 'mailparser';
import { MalformedCallbackError, type AttachmentInfo, type InboundEmailItem } from '../provider-adapter';

/** Reads a complete raw MIME message (SendGrid "POST the raw, full MIME message", Mailgun `body-mime`). */
export async function inboundEmailFromMime(raw: Buffer, receivedAt: Date): Promise<InboundEmailItem> {
  if (raw.length === 0) throw new MalformedCallbackError('raw MIME message is empty');
  const mail = await parseMail(raw);
  return toItem(mail, {
    fallbackId: `sha256:${createHash('sha256').update(raw).digest('hex')}`,
    receivedAt,
    text: nonEmpty(mail.text),
    html: typeof mail.html === 'string' ? nonEmpty(mail.html) : null,
    attachments: mail.attachments.map((a) => ({ filename: a.filename ?? null, contentType: a.contentType, size: a.size })),
  });
}

/** A message a provider has already taken apart into form fields. */
export interface InboundEmailFields {
  /** The raw header block (`Name: value` lines), or lines rebuilt from the provider's header list; may be empty. */
  headers: string;
  /** Header values as the provider decoded them; used only where the header block lacks the header. */
  from: string | null;
  to: string | null;
  cc: string | null;
  subject: string | null;
  text: string | null;
  html: string | null;
  attachments: AttachmentInfo[];
}

/**
 * Builds the item from provider fields. The header block goes through the same
 * MIME parser as raw messages, so address lists, encoded words and reference
 * chains are read one way whichever form the provider posted.
 */
export async function inboundEmailFromFields(fields: InboundEmailFields, receivedAt: Date): Promise<InboundEmailItem> {
  const block = withFallbackHeaders(fields);
  const mail = await parseMail(Buffer.from(`${block}\r\n\r\n`, 'utf8'));
  return toItem(mail, {
    // Multipart boundaries differ between retries of the same post, so the digest covers content, not the body bytes.
    fallbackId: digest([fields.headers, fields.subject ?? '', fields.text ?? '', fields.html ?? '']),
    receivedAt,
    text: nonEmpty(fields.text),
    html: nonEmpty(fields.html),
    attachments: fields.attachments,
  });
}

/** Turns `[["Name", "value"], …]` (Mailgun `message-headers`) into a header block. */
export function headerBlockFromPairs(pairs: unknown): string {
  if (!Array.isArray(pairs)) return '';
  const lines: string[] = [];
  for (const pair of pairs) {
    if (Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'string') {
      lines.push(headerLine(pair[0], pair[1]));
    }
  }
  return lines.join('\r\n');
}

interface ItemParts {
  fallbackId: string;
  receivedAt: Date;
  text: string | null;
  html: string | null;
  attachments: AttachmentInfo[];
}

function toItem(mail: ParsedMail, parts: ItemParts): InboundEmailItem {
  const messageId = nonEmpty(mail.messageId);
  return {
    kind: 'inbound_email',
    providerEventId: messageId ?? parts.fallbackId,
    messageId,
    inReplyTo: nonEmpty(mail.inReplyTo),
    references: typeof mail.references === 'string' ? [mail.references] : (mail.references ?? []),
    from: nonEmpty(mail.from?.text),
    to: addresses(mail.to),
    cc: addresses(mail.cc),
    subject: mail.subject ?? null,
    text: parts.text,
    html: parts.html,
    date: headerDate(mail) ?? parts.receivedAt.toISOString(),
    attachments: parts.attachments,
  };
}

/** mailparser substitutes the current time for an unreadable Date, so the header is read here instead. */
function headerDate(mail: ParsedMail): string | null {
  const line = mail.headerLines.find((h) => h.key === 'date')?.line;
  if (!line) return null;
  const date = new Date(
    line
      .slice(line.indexOf(':') + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim(),
  );
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

async function parseMail(source: Buffer): Promise<ParsedMail> {
  try {
    return await simpleParser(source);
  } catch {
    throw new MalformedCallbackError('email message could not be parsed');
  }
}

function withFallbackHeaders(fields: InboundEmailFields): string {
  // Body-structure headers are dropped: there is no body here for them to describe.
  const kept = logicalHeaders(fields.headers).filter((h) => !/^content-/i.test(h.name));
  const present = new Set(kept.map((h) => h.name.toLowerCase()));
  const lines = kept.map((h) => h.text);
  const add = (name: string, value: string | null) => {
    if (value && !present.has(name.toLowerCase())) lines.push(headerLine(name, value));
  };
  add('From', fields.from);
  add('To', fields.to);
  add('Cc', fields.cc);
  add('Subject', fields.subject);
  return lines.join('\r\n');
}

/** Splits a header block into headers, keeping folded continuation lines with their header. */
function logicalHeaders(block: string): { name: string; text: string }[] {
  const headers: { name: string; text: string }[] = [];
  for (const line of block.split(/\r?\n/)) {
    const last = headers[headers.length - 1];
    if (/^[ \t]/.test(line) && last) {
      last.text += `\r\n${line}`;
      continue;
    }
    const name = /^([!-9;-~]+):/.exec(line)?.[1];
    if (name) headers.push({ name, text: line });
  }
  return headers;
}

/** Line breaks inside a provider value would start a header of the sender's choosing. */
function headerLine(name: string, value: string): string {
  return `${name}: ${value.replace(/[\r\n]+/g, ' ')}`;
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const objects = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return objects.flatMap((o) => flatten(o.value));
}

function flatten(list: EmailAddress[]): string[] {
  return list.flatMap((a) => (a.group ? flatten(a.group) : a.address ? [a.address] : []));
}

function nonEmpty(value: string | null | undefined): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function digest(parts: readonly (string | Buffer)[]): string {
  const hash = createHash('sha256');
  // Length-prefixing keeps ("ab","c") and ("a","bc") apart.
  for (const part of parts) hash.update(`${Buffer.byteLength(part)}:`).update(part);
  return `sha256:${hash.digest('hex')}`;
}
