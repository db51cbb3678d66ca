import { once } from 'node:events';
import { createServer, request, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BadRequestException, HttpStatus } from '@nestjs/common';
import { problemDocument, ProblemException, Problems } from './problem';
import { ProblemFilter } from './problem.filter';
import { problemResponseText, sendProblem } from './problem-response';

const TYPE = 'https://hookhub.dev/problems/';

describe('problemDocument', () => {
  it.each([
    [400, 'bad-request', 'Bad request'],
    [404, 'not-found', 'Not found'],
    [408, 'request-timeout', 'Request timeout'],
    [413, 'payload-too-large', 'Payload too large'],
    [415, 'unsupported-media-type', 'Unsupported media type'],
    [417, 'expectation-failed', 'Expectation failed'],
    [431, 'request-header-fields-too-large', 'Request header fields too large'],
    [503, 'unavailable', 'Service unavailable'],
    [418, 'http-error', 'I am a teapot'],
  ])('gives status %i the type %s and the title %s', (status, slug, title) => {
    expect(problemDocument(status, 'why')).toEqual({ type: TYPE + slug, title, status, detail: 'why' });
  });

  it('takes a specific type and title, and puts extensions after the standard members and the instance last', () => {
    const doc = problemDocument(422, 'bad url', { slug: 'unsafe-url', title: 'Unsafe webhook URL', extensions: { errors: [] }, instance: '/v1/x' });
    expect(JSON.stringify(doc)).toBe(
      JSON.stringify({ type: `${TYPE}unsafe-url`, title: 'Unsafe webhook URL', status: 422, detail: 'bad url', errors: [], instance: '/v1/x' }),
    );
  });

  it('is what a ProblemException renders as', () => {
    expect(Problems.unavailable('NATS is away', { checks: { nats: 'down' } }).document()).toEqual({
      type: `${TYPE}unavailable`,
      title: 'Service unavailable',
      status: 503,
      detail: 'NATS is away',
      checks: { nats: 'down' },
    });
    expect(new ProblemException(HttpStatus.BAD_REQUEST, 'malformed-json', 'Bad request', 'not JSON').document().type).toBe(`${TYPE}malformed-json`);
  });
});

describe('ProblemFilter.toProblem', () => {
  const filter = new ProblemFilter();

  it('uses the status slugs for Nest exceptions and body-parser errors, one per meaning', () => {
    expect(filter.toProblem(new BadRequestException(['a must be a string', 'b must be a number']))).toEqual({
      type: `${TYPE}bad-request`,
      title: 'Bad request',
      status: 400,
      detail: 'a must be a string; b must be a number',
    });
    expect(filter.toProblem(Object.assign(new Error('x'), { status: 400, type: 'entity.parse.failed' })).type).toBe(`${TYPE}malformed-json`);
    expect(filter.toProblem(Object.assign(new Error('x'), { status: 413, type: 'entity.too.large' })).type).toBe(`${TYPE}payload-too-large`);
    expect(filter.toProblem(Problems.unavailable('later')).type).toBe(`${TYPE}unavailable`);
  });

  it('answers anything else with a generic 500 that leaks nothing', () => {
    expect(filter.toProblem(new Error('password=hunter2'))).toEqual({
      type: `${TYPE}internal-error`,
      title: 'Internal server error',
      status: 500,
      detail: 'An unexpected error occurred',
    });
  });
});

describe('sendProblem', () => {
  let server: Server;
  let closeConnection = false;

  beforeAll(async () => {
    server = createServer((_req, res) => sendProblem(res, problemDocument(503, 'não está pronto', { instance: '/readyz' }), { closeConnection }));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterAll(() => server.close());

  function call(method: string): Promise<{ status?: number; headers: Record<string, unknown>; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', method, path: '/readyz' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('answers with the status, the problem media type in UTF-8 and the exact length', async () => {
    closeConnection = false;
    const res = await call('GET');
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.body));
    expect(res.headers.connection).not.toBe('close');
    expect(JSON.parse(res.body)).toEqual({
      type: `${TYPE}unavailable`,
      title: 'Service unavailable',
      status: 503,
      detail: 'não está pronto',
      instance: '/readyz',
    });
  });

  it('closes the connection when asked, and sends no body to HEAD', async () => {
    closeConnection = true;
    const res = await call('HEAD');
    expect(res.status).toBe(503);
    expect(res.headers.connection).toBe('close');
    expect(res.body).toBe('');
  });
});

describe('problemResponseText', () => {
  it('is a complete HTTP/1.1 response that closes the connection', () => {
    const text = problemResponseText(problemDocument(431, 'Request Header Fields Too Large'));
    const [head, body] = text.split('\r\n\r\n');
    expect(head.split('\r\n')).toEqual([
      'HTTP/1.1 431 Request Header Fields Too Large',
      'Content-Type: application/problem+json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
    ]);
    expect(JSON.parse(body)).toMatchObject({ type: `${TYPE}request-header-fields-too-large`, status: 431 });
  });
});
