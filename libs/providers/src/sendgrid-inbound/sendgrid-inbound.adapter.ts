import { constantTimeEqual, optionalString } from '../callback-support';
import { inboundEmailFromFields, inboundEmailFromMime } from '../email/inbound-email';
import { parseMultipart, type FormBody } from '../email/multipart';
import { MalformedCallbackError } from '../provider-adapter';
import type { AttachmentInfo, CredentialSpec, Credentials, IngestRequest, ParsedCallback, ProviderAdapter, Verification } from '../provider-adapter';
import { verifySendgridSignature } from '../sendgrid/sendgrid.adapter';

export const SENDGRID_INBOUND_CREDENTIALS: CredentialSpec = {
  username: {
    required: true,
    secret: false,
    description: 'Basic auth user name put in the Destination URL (https://user:password@host/…); Inbound Parse is unsigned by default.',
  },
  password: {
    required: true,
    secret: true,
    description: 'Basic auth password put in the Destination URL.',
  },
  public_key: {
    required: false,
    secret: false,
    description:
      'Public key of a Parse webhook security policy with signature verification (policy.signature.public_key, base64 SPKI); when set, every post must be signed.',
  },
};

/** Reads `Authorization: Basic …`; `null` when absent or not Basic. */
function basicCredentials(header: string | undefined): { username: string; password: string } | null {
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function checkBasicAuth(req: IngestRequest, credentials: Credentials): Verification {
  const username = credentials['username'];
  const password = credentials['password'];
  if (!username || !password) return fail('connection has no Basic auth credentials');
  const header = req.headers['authorization'];
  if (!header) return fail('authorization header is missing');
  const given = basicCredentials(header);
  if (!given) return fail('authorization is not Basic');
  // Both comparisons always run, so timing does not tell which half was wrong.
  const userOk = constantTimeEqual(given.username, username);
  const passOk = constantTimeEqual(given.password, password);
  return userOk && passOk ? { ok: true } : fail('Basic auth credentials do not match');
}

/**
 * Parsed-mode attachments: `attachment1…N` files, described by the
 * `attachment-info` JSON; the size is taken from the bytes received.
 */
function attachments(form: FormBody): AttachmentInfo[] {
  const info = attachmentInfo(form.fields.get('attachment-info'));
  return form.files
    .filter((f) => /^attachment\d+$/.test(f.fieldName))
    .map((f) => {
      const described = info[f.fieldName];
      return {
        filename: optionalString(described?.['filename']) ?? f.filename,
        contentType: optionalString(described?.['type']) ?? f.contentType,
        size: f.size,
      };
    });
}

function attachmentInfo(json: string | undefined): Record<string, Record<string, unknown> | undefined> {
  if (json === undefined || json.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new MalformedCallbackError('attachment-info is not valid JSON');
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, Record<string, unknown> | undefined>) : {};
}

function fail(reason: string): Verification {
  return { ok: false, reason };
}

/** SendGrid Inbound Parse: one multipart post per received email, raw MIME or taken apart. */
export class SendgridInboundAdapter implements ProviderAdapter {
  readonly provider = 'sendgrid_inbound' as const;
  readonly credentials: CredentialSpec = SENDGRID_INBOUND_CREDENTIALS;

  async verify(req: IngestRequest, credentials: Credentials): Promise<Verification> {
    const basic = checkBasicAuth(req, credentials);
    if (!basic.ok) return basic;
    const publicKey = credentials['public_key'];
    return publicKey ? verifySendgridSignature(req, publicKey) : { ok: true };
  }

  async parse(req: IngestRequest): Promise<ParsedCallback> {
    const form = await parseMultipart(req.rawBody, req.headers['content-type']);
    const { fields } = form;
    const raw = fields.get('email');
    // "POST the raw, full MIME message" sends the message untouched in `email`.
    if (raw !== undefined) {
      return { items: [await inboundEmailFromMime(Buffer.from(raw, 'utf8'), req.receivedAt)], actions: [] };
    }
    if (!fields.has('headers') && !fields.has('from') && !fields.has('text') && !fields.has('html')) {
      throw new MalformedCallbackError('form is not a SendGrid Inbound Parse post');
    }
    const item = await inboundEmailFromFields(
      {
        headers: fields.get('headers') ?? '',
        from: optionalString(fields.get('from')),
        to: optionalString(fields.get('to')),
        cc: optionalString(fields.get('cc')),
        subject: optionalString(fields.get('subject')),
        text: optionalString(fields.get('text')),
        html: optionalString(fields.get('html')),
        attachments: attachments(form),
      },
      req.receivedAt,
    );
    return { items: [item], actions: [] };
  }
}
