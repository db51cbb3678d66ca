import { Injectable } from '@nestjs/common';
import type { Credentials, CredentialSpec } from '@hookhub/providers';
import { SecretVault } from '@hookhub/signing';

export interface StoredCredentials {
  settings: Record<string, string>;
  secretsCiphertext: string | null;
}

export interface CredentialProblem {
  field: string;
  detail: string;
}

const MAX_VALUE_LENGTH = 8_192;

/**
 * Checks a connection's credentials against its provider's spec and keeps the
 * secret fields encrypted at rest, apart from the public ones (keys, header
 * names, algorithms) that the API may show.
 */
@Injectable()
export class ConnectionCredentials {
  constructor(private readonly vault: SecretVault) {}

  /**
   * Problems with `input`, merged over `current` (fields left out keep their
   * current value, so a PATCH may change one secret without resending all).
   */
  validate(spec: CredentialSpec, input: Record<string, unknown>, current: Credentials = {}): CredentialProblem[] {
    const problems: CredentialProblem[] = [];
    for (const [field, value] of Object.entries(input)) {
      const def = spec[field];
      if (!def) problems.push({ field, detail: `is not a credential of this provider (expected: ${Object.keys(spec).join(', ')})` });
      else if (typeof value !== 'string' || value.length === 0) problems.push({ field, detail: 'must be a non-empty string' });
      else if (value.length > MAX_VALUE_LENGTH) problems.push({ field, detail: `must be at most ${MAX_VALUE_LENGTH} characters` });
      else if (def.choices && !def.choices.includes(value)) problems.push({ field, detail: `must be one of ${def.choices.join(', ')}` });
    }
    for (const [field, def] of Object.entries(spec)) {
      if (def.required && input[field] === undefined && current[field] === undefined) problems.push({ field, detail: 'is required' });
    }
    return problems;
  }

  /** Splits validated credentials into what is stored in clear and what is encrypted. */
  seal(spec: CredentialSpec, credentials: Credentials): StoredCredentials {
    const settings: Record<string, string> = {};
    const secrets: Record<string, string> = {};
    for (const [field, value] of Object.entries(credentials)) {
      if (!spec[field]) continue;
      (spec[field].secret ? secrets : settings)[field] = value;
    }
    return { settings, secretsCiphertext: Object.keys(secrets).length > 0 ? this.vault.encrypt(JSON.stringify(secrets)) : null };
  }

  open(stored: StoredCredentials): Credentials {
    const secrets = stored.secretsCiphertext ? (JSON.parse(this.vault.decrypt(stored.secretsCiphertext)) as Record<string, string>) : {};
    return { ...stored.settings, ...secrets };
  }

  /** The secret fields that have a value, by name only: what the API says about secrets. */
  static secretFieldsSet(spec: CredentialSpec, credentials: Credentials): string[] {
    return Object.keys(credentials).filter((f) => spec[f]?.secret);
  }
}
