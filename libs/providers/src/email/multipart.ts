import busboy from 'busboy';
import { formParams } from '../callback-support';
import { MalformedCallbackError, UnsupportedMediaTypeError } from '../provider-adapter';

/*
 * No byte cap of our own: the body is already in memory and bounded by
 * INGEST_BODY_LIMIT, which must admit the providers' largest posts (SendGrid
 * Inbound Parse 30 MB, Mailgun 25 MB messages, in raw MIME or with
 * attachments). A cap below it refused real mail the HTTP layer had accepted.
 */
export const MAX_FORM_FILES = 100;
/** Generous: Mailgun posts every MIME header as its own field besides the documented ones. */
const MAX_FORM_FIELDS = 1000;

export interface FormFile {
  /** The form field the file was posted under (`attachment1`, `attachment-1`). */
  fieldName: string;
  filename: string | null;
  contentType: string;
  size: number;
  content: Buffer;
}

export interface FormBody {
  /** First value of each field; providers never repeat the fields we read. */
  fields: ReadonlyMap<string, string>;
  files: readonly FormFile[];
}

/** Reads a `multipart/form-data` body already held in memory. */
export function parseMultipart(rawBody: Buffer, contentType: string | undefined): Promise<FormBody> {
  if (!contentType || !/^multipart\/form-data\b/i.test(contentType)) {
    return Promise.reject(new UnsupportedMediaTypeError('body is not multipart/form-data'));
  }
  return new Promise<FormBody>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        // Per-part limits equal the whole body: a raw MIME field (`email`, `body-mime`) may be most of it.
        limits: { fieldSize: rawBody.length, fileSize: rawBody.length, files: MAX_FORM_FILES, fields: MAX_FORM_FIELDS },
        defParamCharset: 'utf8',
      });
    } catch {
      reject(new MalformedCallbackError('multipart content type has no usable boundary'));
      return;
    }
    collect(parser, resolve, reject);
    parser.end(rawBody);
  });
}

function collect(parser: busboy.Busboy, resolve: (body: FormBody) => void, reject: (err: Error) => void): void {
  const fields = new Map<string, string>();
  const files: FormFile[] = [];
  const pending: Promise<void>[] = [];
  let failure: string | null = null;
  const fail = (reason: string) => {
    failure ??= reason;
  };

  parser.on('field', (name, value, info) => {
    if (info.valueTruncated || info.nameTruncated) fail('multipart field is too large');
    if (!fields.has(name)) fields.set(name, value);
  });
  parser.on('file', (name, stream, info) => {
    // Slots are taken in posting order; the streams may finish in any order.
    const slot = pending.length;
    pending.push(
      readStream(stream).then(
        (content) => {
          if ((stream as { truncated?: boolean }).truncated) fail('multipart file is too large');
          files[slot] = {
            fieldName: name,
            filename: info.filename && info.filename.length > 0 ? info.filename : null,
            contentType: info.mimeType,
            size: content.length,
            content,
          };
        },
        // Settled either way: a stream destroyed with the parser must not become an unhandled rejection.
        () => fail('multipart file could not be read'),
      ),
    );
  });
  parser.on('filesLimit', () => fail(`multipart body has more than ${MAX_FORM_FILES} files`));
  parser.on('fieldsLimit', () => fail('multipart body has too many fields'));
  parser.on('error', (err: unknown) => {
    reject(new MalformedCallbackError(`multipart body is malformed: ${err instanceof Error ? err.message : 'unknown error'}`));
  });
  parser.on('close', () => {
    void Promise.all(pending).then(() => (failure ? reject(new MalformedCallbackError(failure)) : resolve({ fields, files })));
  });
}

function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/**
 * Reads a form post in either encoding providers use for the same fields
 * (Mailgun switches to multipart only when a message has attachments).
 */
export async function parseFormBody(rawBody: Buffer, contentType: string | undefined): Promise<FormBody> {
  if (contentType && /^application\/x-www-form-urlencoded\b/i.test(contentType)) {
    const fields = new Map<string, string>();
    for (const [name, value] of formParams(rawBody)) if (!fields.has(name)) fields.set(name, value);
    return { fields, files: [] };
  }
  return parseMultipart(rawBody, contentType);
}
