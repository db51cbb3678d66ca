import { MalformedCallbackError, UnsupportedMediaTypeError } from '../provider-adapter';
import { MAX_FORM_FILES, parseFormBody, parseMultipart } from './multipart';

interface Part {
  name: string;
  value: string | { filename: string; type: string; content: Buffer };
}

/** Encodes with the platform's FormData, so the tests do not depend on a hand-written encoder. */
async function encode(parts: Part[]): Promise<{ body: Buffer; contentType: string }> {
  const form = new FormData();
  for (const p of parts) {
    if (typeof p.value === 'string') form.append(p.name, p.value);
    else form.append(p.name, new Blob([p.value.content], { type: p.value.type }), p.value.filename);
  }
  const res = new Response(form);
  return { body: Buffer.from(await res.arrayBuffer()), contentType: res.headers.get('content-type') ?? '' };
}

describe('parseMultipart', () => {
  it('returns fields and files with their bytes, sizes and posting order', async () => {
    const pdf = Buffer.from('%PDF-1.4 binary \xff\x00', 'latin1');
    const png = Buffer.alloc(3000, 7);
    const { body, contentType } = await encode([
      { name: 'subject', value: 'Grüße — hi' },
      { name: 'attachment2', value: { filename: 'b.png', type: 'image/png', content: png } },
      { name: 'text', value: 'line 1' },
      { name: 'attachment1', value: { filename: 'a.pdf', type: 'application/pdf', content: pdf } },
    ]);
    const form = await parseMultipart(body, contentType);
    expect(Object.fromEntries(form.fields)).toEqual({ subject: 'Grüße — hi', text: 'line 1' });
    expect(form.files).toEqual([
      { fieldName: 'attachment2', filename: 'b.png', contentType: 'image/png', size: 3000, content: png },
      { fieldName: 'attachment1', filename: 'a.pdf', contentType: 'application/pdf', size: pdf.length, content: pdf },
    ]);
  });

  it('keeps the first value of a repeated field', async () => {
    const { body, contentType } = await encode([
      { name: 'to', value: 'first@example.com' },
      { name: 'to', value: 'second@example.com' },
    ]);
    expect((await parseMultipart(body, contentType)).fields.get('to')).toBe('first@example.com');
  });

  it('accepts a raw MIME field beyond the 1 MiB busboy default', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024);
    const { body, contentType } = await encode([{ name: 'email', value: big }]);
    expect((await parseMultipart(body, contentType)).fields.get('email')).toHaveLength(big.length);
  });

  it(`accepts ${MAX_FORM_FILES} files and rejects more`, async () => {
    const files = (n: number): Part[] =>
      Array.from({ length: n }, (_, i) => ({ name: `attachment${i + 1}`, value: { filename: `${i}.txt`, type: 'text/plain', content: Buffer.from('x') } }));
    const ok = await encode(files(MAX_FORM_FILES));
    expect((await parseMultipart(ok.body, ok.contentType)).files).toHaveLength(MAX_FORM_FILES);
    const tooMany = await encode(files(MAX_FORM_FILES + 1));
    await expect(parseMultipart(tooMany.body, tooMany.contentType)).rejects.toThrow(MalformedCallbackError);
  });

  it('reads a raw MIME field of 26 MiB: the only size bound is the HTTP body limit (a 25 MiB cap refused a 25 MB Mailgun message)', async () => {
    const big = 'x'.repeat(26 * 1024 * 1024);
    const { body, contentType } = await encode([
      { name: 'body-mime', value: big },
      { name: 'signature', value: 'abc' },
    ]);
    const form = await parseMultipart(body, contentType);
    expect(form.fields.get('body-mime')).toHaveLength(big.length);
    expect(form.fields.get('signature')).toBe('abc');
  });

  it.each([
    ['a content type that is not multipart', 'application/json', Buffer.from('{}')],
    ['no content type', undefined, Buffer.from('x')],
    ['no boundary', 'multipart/form-data', Buffer.from('--x\r\n')],
    ['a truncated body', 'multipart/form-data; boundary=b', Buffer.from('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue')],
    ['a malformed part header', 'multipart/form-data; boundary=b', Buffer.from(`--b\r\n${'X'.repeat(90000)}\r\n\r\nv\r\n--b--\r\n`)],
  ])('rejects %s', async (_name, contentType, body) => {
    await expect(parseMultipart(body, contentType)).rejects.toThrow(MalformedCallbackError);
  });

  it('refuses a body declared as anything but multipart/form-data as an unsupported media type', async () => {
    await expect(parseMultipart(Buffer.from('{}'), 'application/json')).rejects.toThrow(UnsupportedMediaTypeError);
    await expect(parseMultipart(Buffer.from('x'), undefined)).rejects.toThrow(UnsupportedMediaTypeError);
  });
});

describe('parseFormBody', () => {
  it('reads URL-encoded bodies', async () => {
    const body = Buffer.from(new URLSearchParams({ from: 'a@b.c', 'body-plain': 'hi there & more' }).toString());
    const form = await parseFormBody(body, 'application/x-www-form-urlencoded; charset=utf-8');
    expect(Object.fromEntries(form.fields)).toEqual({ from: 'a@b.c', 'body-plain': 'hi there & more' });
    expect(form.files).toEqual([]);
  });

  it('reads multipart bodies', async () => {
    const { body, contentType } = await encode([{ name: 'from', value: 'a@b.c' }]);
    expect((await parseFormBody(body, contentType)).fields.get('from')).toBe('a@b.c');
  });

  it('rejects other content types', async () => {
    await expect(parseFormBody(Buffer.from('{}'), 'application/json')).rejects.toThrow(MalformedCallbackError);
  });
});
