import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/**
 * Encrypts signing secrets at rest with AES-256-GCM. A database dump alone
 * cannot forge webhooks; the key lives only in the apps' configuration.
 */
export class SecretVault {
  private readonly key: Buffer;

  constructor(keyMaterial: string) {
    const key = /^[0-9a-f]{64}$/i.test(keyMaterial) ? Buffer.from(keyMaterial, 'hex') : Buffer.from(keyMaterial, 'base64');
    if (key.length !== 32) throw new Error('the secrets encryption key must be 32 bytes (64 hex or 44 base64 characters)');
    this.key = key;
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join('.');
  }

  decrypt(ciphertext: string): string {
    const [version, iv, tag, data] = ciphertext.split('.');
    if (version !== VERSION || !iv || !tag || data === undefined) throw new Error('unrecognised secret ciphertext');
    const authTag = Buffer.from(tag, 'base64');
    // A short tag would let a forger guess far fewer bits: only the full 16 bytes are accepted.
    if (authTag.length !== 16) throw new Error('secret ciphertext has a truncated authentication tag');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'), { authTagLength: 16 });
    decipher.setAuthTag(authTag);
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  }
}
