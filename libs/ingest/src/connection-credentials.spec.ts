import { randomBytes } from 'node:crypto';
import type { CredentialSpec } from '@hookhub/providers';
import { SecretVault } from '@hookhub/signing';
import { ConnectionCredentials } from './connection-credentials';
import { derivedId } from './event-ids';

const spec: CredentialSpec = {
  public_key: { required: true, secret: false, description: 'key' },
  auth_token: { required: true, secret: true, description: 'token' },
  method: { required: false, secret: false, description: 'algorithm', choices: ['sha1', 'sha256'] },
};

describe('ConnectionCredentials', () => {
  const credentials = new ConnectionCredentials(new SecretVault(randomBytes(32).toString('hex')));

  it('accepts complete credentials and names every problem otherwise', () => {
    expect(credentials.validate(spec, { public_key: 'k', auth_token: 't' })).toEqual([]);
    expect(credentials.validate(spec, { public_key: 'k', extra: 'x', method: 'md5', auth_token: 7 })).toEqual([
      { field: 'extra', detail: expect.stringContaining('is not a credential') },
      { field: 'method', detail: 'must be one of sha1, sha256' },
      { field: 'auth_token', detail: 'must be a non-empty string' },
    ]);
    expect(credentials.validate(spec, {})).toEqual([
      { field: 'public_key', detail: 'is required' },
      { field: 'auth_token', detail: 'is required' },
    ]);
  });

  it('lets an update leave out fields that already have a value', () => {
    expect(credentials.validate(spec, { auth_token: 'new' }, { public_key: 'k', auth_token: 'old' })).toEqual([]);
  });

  it('keeps secret fields only in the ciphertext and opens them again', () => {
    const sealed = credentials.seal(spec, { public_key: 'k', auth_token: 'token-value' });
    expect(sealed.settings).toEqual({ public_key: 'k' });
    expect(sealed.secretsCiphertext).not.toContain('token-value');
    expect(credentials.open(sealed)).toEqual({ public_key: 'k', auth_token: 'token-value' });
    expect(ConnectionCredentials.secretFieldsSet(spec, credentials.open(sealed))).toEqual(['auth_token']);
  });
});

describe('derivedId', () => {
  it('is a stable UUID for the same parts and differs for others', () => {
    const id = derivedId('tenant', 'sendgrid', 'status', 'evt-1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(derivedId('tenant', 'sendgrid', 'status', 'evt-1')).toBe(id);
    expect(derivedId('tenant', 'sendgrid', 'status', 'evt-2')).not.toBe(id);
    expect(derivedId('tenant', 'sendgrid', 'statusevt-1')).not.toBe(id);
  });
});
