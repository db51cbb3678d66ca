import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsObject, IsOptional, IsString, IsUrl, Length, MaxLength, registerDecorator, ValidationOptions } from 'class-validator';
import { MESSAGE_STATUSES } from '@hookhub/contracts';
import type { ProviderCallbackEntity, ProviderConnectionEntity } from '@hookhub/persistence';
import { PROVIDER_NAMES, ProviderName, type CredentialSpec } from '@hookhub/providers';
import { ListQuery } from '../common/pagination.dto';

/** Provider status (as the provider spells it) → one of the normalised statuses. */
function IsStatusMap(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isStatusMap',
      target: object.constructor,
      propertyName,
      options: { message: `${propertyName} must map provider statuses to one of: ${MESSAGE_STATUSES.join(', ')} (at most 50 entries)`, ...options },
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
          const entries = Object.entries(value);
          return entries.length <= 50 && entries.every(([k, v]) => k.length > 0 && k.length <= 100 && (MESSAGE_STATUSES as readonly unknown[]).includes(v));
        },
      },
    });
}

const PUBLIC_URL = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

export class CreateProviderConnectionDto {
  @ApiProperty({ enum: PROVIDER_NAMES })
  @IsIn(PROVIDER_NAMES)
  provider: ProviderName;

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({
    description:
      'The exact URL configured at the provider (it ends with /ingest/<provider>/<id>, known after creation; set it with PATCH). URL-signing providers (Twilio, Plivo, MessageBird) sign it, so behind a proxy it must be the public one.',
  })
  @IsOptional()
  @IsUrl(PUBLIC_URL)
  @MaxLength(2000)
  public_url?: string;

  @ApiProperty({ description: "The provider's credentials; GET /v1/providers lists each provider's fields. Secret fields are never returned." })
  @IsObject()
  credentials: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Overrides of the built-in status mapping, e.g. {"undelivered": "bounced"}' })
  @IsOptional()
  @IsStatusMap()
  status_map?: Record<string, string>;
}

export class UpdateProviderConnectionDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUrl(PUBLIC_URL)
  @MaxLength(2000)
  public_url?: string;

  @ApiPropertyOptional({ description: 'Credential fields to change; fields left out keep their value.' })
  @IsOptional()
  @IsObject()
  credentials?: Record<string, unknown>;

  @ApiPropertyOptional()
  @IsOptional()
  @IsStatusMap()
  status_map?: Record<string, string>;
}

export class ProviderConnectionView {
  @ApiProperty() id: string;
  @ApiProperty({ enum: PROVIDER_NAMES }) provider: string;
  @ApiProperty({ nullable: true, type: String }) name: string | null;
  @ApiProperty({ description: 'Path of this connection on provider-ingest', example: '/ingest/twilio_sms/0b6f7c1e-52d4-4e0a-9c55-7f1f6b2d9a10' })
  ingest_path: string;
  @ApiProperty({
    description: 'The full URL to configure at the provider: `public_url` when set, otherwise INGEST_PUBLIC_URL followed by `ingest_path`',
    example: 'https://hooks.example.com/ingest/twilio_sms/0b6f7c1e-52d4-4e0a-9c55-7f1f6b2d9a10',
  })
  ingest_url: string;
  @ApiProperty({ nullable: true, type: String, description: 'The URL the provider calls, when it differs from the default (e.g. behind a proxy)' })
  public_url: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'The non-secret credential fields' })
  credentials: Record<string, string>;
  @ApiProperty({ description: 'Names of the secret fields that are set (values are never shown)', type: [String] }) secrets_set: string[];
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Overrides of the built-in status mapping' })
  status_map: Record<string, string>;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;

  /** `ingestBase`: INGEST_PUBLIC_URL, where providers reach provider-ingest. */
  static of(c: ProviderConnectionEntity, spec: CredentialSpec, secretFields: string[], ingestBase: string): ProviderConnectionView {
    const path = `/ingest/${c.provider}/${c.id}`;
    return {
      id: c.id,
      provider: c.provider,
      name: c.name,
      ingest_path: path,
      ingest_url: c.publicUrl ?? ingestBase.replace(/\/+$/, '') + path,
      public_url: c.publicUrl,
      credentials: Object.fromEntries(Object.entries(c.settings).filter(([k]) => spec[k] && !spec[k].secret)),
      secrets_set: secretFields,
      status_map: c.statusMap,
      created_at: c.createdAt.toISOString(),
      updated_at: c.updatedAt.toISOString(),
    };
  }
}

export class ProviderConnectionPage {
  @ApiProperty({ type: [ProviderConnectionView] }) items: ProviderConnectionView[];
  @ApiProperty({ nullable: true, type: String }) next_cursor: string | null;
}

export class CallbackView {
  @ApiProperty() id: string;
  @ApiProperty() connection_id: string;
  @ApiProperty() provider: string;
  @ApiProperty() method: string;
  @ApiProperty() url: string;
  @ApiProperty() received_at: string;
  @ApiProperty({ enum: ['pending', 'processed', 'failed'] }) state: string;
  @ApiProperty() attempts: number;
  @ApiProperty({ nullable: true, type: String }) last_error: string | null;
  @ApiProperty({ type: [String], description: 'Ids of the events this callback became' }) event_ids: string[];
  @ApiProperty({ nullable: true, type: String }) processed_at: string | null;

  static of(c: ProviderCallbackEntity): CallbackView {
    return {
      id: c.id,
      connection_id: c.connectionId,
      provider: c.provider,
      method: c.method,
      url: c.url,
      received_at: c.receivedAt.toISOString(),
      state: c.state,
      attempts: c.attempts,
      last_error: c.lastError,
      event_ids: c.eventIds,
      processed_at: c.processedAt ? c.processedAt.toISOString() : null,
    };
  }
}

export const BODY_ENCODINGS = ['utf8', 'base64'] as const;

export class CallbackDetailView extends CallbackView {
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Headers as received, without credentials' })
  headers: Record<string, string>;
  @ApiProperty({ description: 'The body as received: its text when it is valid UTF-8 without control characters, otherwise base64 (see `body_encoding`)' })
  body: string;
  @ApiProperty({ enum: BODY_ENCODINGS, description: '`utf8`: `body` is the text; `base64`: `body` holds binary bytes in base64' })
  body_encoding: (typeof BODY_ENCODINGS)[number];

  /** The body as text when it is text, so form and JSON callbacks read as they came; binary stays exact in base64. */
  static body(raw: Buffer): Pick<CallbackDetailView, 'body' | 'body_encoding'> {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      return { body: raw.toString('base64'), body_encoding: 'base64' };
    }
    // NUL and other C0 controls (tab and line breaks aside) mean a binary body that happens to decode.
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) return { body: raw.toString('base64'), body_encoding: 'base64' };
    return { body: text, body_encoding: 'utf8' };
  }
}

export class CallbackPage {
  @ApiProperty({ type: [CallbackView] }) items: CallbackView[];
  @ApiProperty({ nullable: true, type: String }) next_cursor: string | null;
}

export class ProviderConnectionListQuery extends ListQuery {}

export class ProviderDescription {
  @ApiProperty({ enum: PROVIDER_NAMES }) provider: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: {
      type: 'object',
      properties: {
        required: { type: 'boolean' },
        secret: { type: 'boolean' },
        description: { type: 'string' },
        choices: { type: 'array', items: { type: 'string' } },
      },
    },
    description: 'Credential fields by name: required, secret, description, choices',
  })
  credentials: CredentialSpec;
  @ApiProperty({ description: 'Whether the provider also calls with GET (handshakes)' }) accepts_get: boolean;
}

export class ProviderList {
  @ApiProperty({ type: [ProviderDescription] }) items: ProviderDescription[];
  @ApiProperty({ type: String, nullable: true, description: 'Always null: the list is one page' }) next_cursor: null;
}
