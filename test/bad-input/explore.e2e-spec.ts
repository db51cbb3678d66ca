import { connect } from 'node:net';
import { Pool } from 'undici';
import { startHub, RunningHub } from '../support/hub';
import { createTestEnvironment, TestEnvironment } from '../support/test-environment';

function raw(port: number, data: Buffer | string, halfClose = false): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    s.on('data', (c) => chunks.push(c));
    s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    s.on('error', () => undefined);
    s.write(data);
    if (halfClose) s.end();
    setTimeout(() => s.destroy(), 1500);
  });
}

describe('explore', () => {
  let env: TestEnvironment;
  let hub: RunningHub;
  beforeAll(async () => {
    env = await createTestEnvironment();
    hub = await startHub(env, {}, { dispatchers: 0 });
  });
  afterAll(async () => {
    await hub.close();
    await env.teardown();
  });
  it('explores', async () => {
    const t = await hub.api.createTenant('A');
    const port = Number(new URL(hub.api.baseUrl).port);
    const pool = new Pool(hub.api.baseUrl);
    const show = async (label: string, method: string, path: string, headers: Record<string, string>, body?: string | Buffer) => {
      try {
        const r = await pool.request({ method: method as 'GET', path, headers, body });
        const text = await r.body.text();
        console.log(label, r.statusCode, r.headers['content-type'], text.slice(0, 300));
      } catch (e) {
        console.log(label, 'ERR', (e as Error).message);
      }
    };
    const admin = { authorization: `Bearer ${env.adminToken}`, 'content-type': 'application/json' };
    const key = { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' };
    await show('deep obj', 'POST', '/v1/tenants', admin, '{"a":'.repeat(50000) + '1' + '}'.repeat(50000));
    await show('deep arr', 'POST', '/v1/tenants', admin, '['.repeat(100000) + ']'.repeat(100000));
    await show('deep in name', 'POST', '/v1/tenants', admin, '{"name":' + '['.repeat(100000) + ']'.repeat(100000) + '}');
    await show('proto', 'POST', '/v1/tenants', admin, '{"name":"x","__proto__":{"a":1}}');
    await show('constructor', 'POST', '/v1/tenants', admin, '{"name":"x","constructor":{"prototype":{"a":1}}}');
    await show('utf8', 'POST', '/v1/tenants', admin, Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]));
    await show('array', 'POST', '/v1/tenants', admin, '[{"name":"x"}]');
    await show('array empty', 'POST', '/v1/api-keys', key, '[]');
    await show('string top', 'POST', '/v1/tenants', admin, '"x"');
    await show('latin1', 'POST', '/v1/tenants', { ...admin, 'content-type': 'application/json; charset=latin1' }, '{"name":"x"}');
    await show('utf-8x', 'POST', '/v1/tenants', { ...admin, 'content-type': 'application/json; charset=utf-8x' }, '{"name":"x"}');
    await show('gzip bad', 'POST', '/v1/tenants', { ...admin, 'content-encoding': 'gzip' }, 'notgzip');
    await show('enc unknown', 'POST', '/v1/tenants', { ...admin, 'content-encoding': 'foo' }, '{}');
    await show('big', 'POST', '/v1/tenants', admin, JSON.stringify({ name: 'x'.repeat(300000) }));
    await show('badpct', 'GET', '/v1/subscriptions/%E0%A4%A', key);
    await show('badpct tenant', 'POST', '/v1/tenants/%ff/api-keys', admin, '{}');
    await show('tenant uuid', 'POST', '/v1/tenants/abc/api-keys', admin, '{"name":"x","roles":["reader"]}');
    await show('badpct unknown', 'GET', '/nope/%E0%A4%A', key);
    await show('badpct resources', 'GET', '/v0/tickets/%', key);
    await show('options', 'OPTIONS', '/v1/subscriptions', key);
    await show('trace', 'TRACE', '/v1/subscriptions', key);
    await show('propfind', 'PROPFIND', '/v1/subscriptions', key);
    await show('query arr', 'GET', '/v1/subscriptions?limit=1&limit=2', key);
    await show('query nested', 'GET', '/v1/subscriptions?limit[a]=1', key);
    await show('query proto', 'GET', '/v1/subscriptions?__proto__=1', key);
    await show('query constructor', 'GET', '/v1/subscriptions?constructor=1', key);
    await show('query badpct', 'GET', '/v1/subscriptions?state=%E0%A4%A', key);
    await show('huge auth', 'GET', '/v1/subscriptions', { authorization: 'Bearer ' + 'x'.repeat(20000) });
    await show('docs post', 'POST', '/docs', key, '{"a":');
    await show('docs get body', 'GET', '/docs', { 'content-type': 'text/plain' }, 'hello');
    await show('docs-json', 'GET', '/docs-json?x=%ff', {});
    await show('head 404', 'HEAD', '/nope', {});
    console.log('RAW bad CL', await raw(port, `POST /v1/api-keys HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}`));
    console.log('RAW no host', await raw(port, `GET /v1/subscriptions HTTP/1.1\r\n\r\n`));
    console.log('RAW expect', await raw(port, `POST /v1/api-keys HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`));
    console.log('RAW bad method', await raw(port, `FOO / HTTP/1.1\r\nHost: x\r\n\r\n`));
    console.log('RAW chunk bad', await raw(port, `POST /v1/api-keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.adminKey}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`));
    console.log('RAW truncated', await raw(port, `POST /v1/api-keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.adminKey}\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"a`, true));
    console.log('RAW star', await raw(port, `OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    console.log('RAW abs', await raw(port, `GET http://evil/v1/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    console.log('RAW ctl', await raw(port, `GET /v1/nope HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\nConnection: close\r\n\r\n`));
    console.log('RAW lf', await raw(port, `GET /v1/nope HTTP/1.1\nHost: x\nConnection: close\n\n`));
    console.log('RAW http2', await raw(port, `GET /v1/nope HTTP/2.0\r\nHost: x\r\nConnection: close\r\n\r\n`));
    console.log('RAW 0.9', await raw(port, `GET /v1/nope\r\n\r\n`));
    console.log('RAW bigheader', (await raw(port, `GET /v1/nope HTTP/1.1\r\nHost: x\r\nX-A: ${'a'.repeat(20000)}\r\n\r\n`)).slice(0, 200));
    console.log('RAW space path', await raw(port, `GET /v1/no pe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    console.log('RAW 8bit path', await raw(port, Buffer.concat([Buffer.from('GET /v1/no'), Buffer.from([0xff]), Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')])));
    await pool.close();
  });
});
