import { randomBytes } from 'node:crypto';
import { SecretVault } from './secret-vault';

const HEX_KEY = randomBytes(32).toString('hex');

function parts(ciphertext: string): { version: string; iv: Buffer; tag: Buffer; data: Buffer } {
  const [version, iv, tag, data] = ciphertext.split('.');
  return { version, iv: Buffer.from(iv, 'base64'), tag: Buffer.from(tag, 'base64'), data: Buffer.from(data, 'base64') };
}

function join(p: { version: string; iv: Buffer; tag: Buffer; data: Buffer }): string {
  return [p.version, p.iv.toString('base64'), p.tag.toString('base64'), p.data.toString('base64')].join('.');
}

function flipFirstBit(b: Buffer): Buffer {
  const copy = Buffer.from(b);
  copy[0] ^= 0x01;
  return copy;
}

describe('SecretVault', () => {
  const vault = new SecretVault(HEX_KEY);

  it.each([['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], ['a'.repeat(64)], ['ünïcödé ✓ secret'], ['']])('round-trips %p', (plaintext) => {
    const ciphertext = vault.encrypt(plaintext);
    expect(vault.decrypt(ciphertext)).toBe(plaintext);
  });

  it('produces v1.<iv>.<tag>.<data> with a 12-byte iv and a 16-byte tag, never the plaintext', () => {
    const secret = 'my-signing-secret-123';
    const ciphertext = vault.encrypt(secret);
    expect(ciphertext).not.toContain(secret);
    const p = parts(ciphertext);
    expect(ciphertext.split('.')).toHaveLength(4);
    expect(p.version).toBe('v1');
    expect(p.iv).toHaveLength(12);
    expect(p.tag).toHaveLength(16);
    expect(p.data).toHaveLength(Buffer.byteLength(secret));
  });

  it('uses a fresh iv each time', () => {
    const a = vault.encrypt('same');
    const b = vault.encrypt('same');
    expect(a).not.toBe(b);
    expect(parts(a).iv.equals(parts(b).iv)).toBe(false);
  });

  it('accepts the same key as hex or base64', () => {
    const fromBase64 = new SecretVault(Buffer.from(HEX_KEY, 'hex').toString('base64'));
    expect(fromBase64.decrypt(vault.encrypt('shared'))).toBe('shared');
    expect(new SecretVault(HEX_KEY.toUpperCase()).decrypt(vault.encrypt('shared'))).toBe('shared');
  });

  describe('tamper detection', () => {
    const ciphertext = vault.encrypt('my-signing-secret-123');

    it('throws when the data is modified', () => {
      const p = parts(ciphertext);
      expect(() => vault.decrypt(join({ ...p, data: flipFirstBit(p.data) }))).toThrow();
    });

    it('throws when the tag is modified', () => {
      const p = parts(ciphertext);
      expect(() => vault.decrypt(join({ ...p, tag: flipFirstBit(p.tag) }))).toThrow();
    });

    it('throws when the iv is modified', () => {
      const p = parts(ciphertext);
      expect(() => vault.decrypt(join({ ...p, iv: flipFirstBit(p.iv) }))).toThrow();
    });

    it('throws when the data is truncated or extended', () => {
      const p = parts(ciphertext);
      expect(() => vault.decrypt(join({ ...p, data: p.data.subarray(0, p.data.length - 1) }))).toThrow();
      expect(() => vault.decrypt(join({ ...p, data: Buffer.concat([p.data, Buffer.from([0])]) }))).toThrow();
    });

    it('throws when the data of another ciphertext is spliced in', () => {
      const other = parts(vault.encrypt('another-secret-value!'));
      expect(() => vault.decrypt(join({ ...parts(ciphertext), data: other.data }))).toThrow();
    });

    // A genuine but shortened GCM tag must not authenticate: accepting 4-byte tags
    // would cut forgery resistance from 2^128 to 2^32 guesses (Node DEP0182).
    it('throws when the genuine tag is truncated to 4 bytes', () => {
      const p = parts(ciphertext);
      expect(() => vault.decrypt(join({ ...p, tag: p.tag.subarray(0, 4) }))).toThrow();
    });

    it.each([['v2.a.b.c'], ['not a ciphertext'], [''], ['v1..tag.data'], ['v1.iv..data'], ['v1.iv.tag']])('throws on a malformed ciphertext %p', (bad) => {
      expect(() => vault.decrypt(bad)).toThrow();
    });
  });

  it('throws when decrypting with the wrong key', () => {
    const ciphertext = vault.encrypt('my-signing-secret-123');
    const other = new SecretVault(randomBytes(32).toString('hex'));
    expect(() => other.decrypt(ciphertext)).toThrow();
  });

  it.each([
    ['empty', ''],
    ['16 hex bytes', randomBytes(16).toString('hex')],
    ['31 bytes hex', randomBytes(31).toString('hex')],
    ['33 bytes hex', randomBytes(33).toString('hex')],
    ['24 bytes base64', randomBytes(24).toString('base64')],
    ['48 bytes base64', randomBytes(48).toString('base64')],
    ['a passphrase', 'correct horse battery staple'],
  ])('rejects a key of the wrong length (%s)', (_label, key) => {
    expect(() => new SecretVault(key)).toThrow(/32 bytes/);
  });
});
