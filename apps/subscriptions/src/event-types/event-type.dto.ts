import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsNotEmptyObject, IsObject, IsOptional, IsString, Length, Matches, ValidateIf, ValidateNested } from 'class-validator';
import {
  changeStatusFor,
  envelopeSchema,
  EVENT_TYPE_SYNTAX,
  EventEnvelope,
  EventTypeDefinition,
  EventTypeVersion,
  latestVersion,
  resourceLocation,
  RESOURCE_PATH_SYNTAX,
  ThinNotification,
  toThinNotification,
} from '@hookhub/contracts';

export const MODEL_TYPE_SYNTAX = /^[a-z][a-z0-9_]{0,63}$/;
export const TOPIC_SYNTAX = /^[a-z][a-z0-9_.-]{0,63}$/;

/** A sample event of a version: what the catalogue shows and what its schema is checked against at creation. */
export class EventTypeExampleDto {
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    example: { id: 'ord_1001', status: 'paid', total_cents: 4200 },
    description: 'The model, with its `id`; null only for a deletion type (`<group>.deleted`)',
  })
  @ValidateIf((_, v) => v !== null)
  @IsObject()
  model: Record<string, unknown> | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: {}, description: 'The event’s `data`; `{}` when omitted' })
  @IsOptional()
  @IsObject()
  data?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'The model id, when `model` is null', example: 'ord_1001' })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  model_id?: string;
}

/** A schema version: the JSON Schemas (2020-12) of the model and of `data`, and an example that follows them. */
export class EventTypeVersionDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { type: 'object', required: ['id', 'status'], properties: { id: { type: 'string' }, status: { enum: ['pending', 'paid'] } } },
    description: 'JSON Schema (2020-12) of the event’s `model`, the resource snapshot; the model carries its `id`',
  })
  @IsObject()
  model_schema: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'JSON Schema (2020-12) of the event’s `data`; any object when omitted' })
  @IsOptional()
  @IsObject()
  data_schema?: Record<string, unknown>;

  @ApiProperty({ type: EventTypeExampleDto })
  @IsNotEmptyObject({ nullable: false }, { message: 'example must be an object with the model' })
  @ValidateNested()
  @Type(() => EventTypeExampleDto)
  example: EventTypeExampleDto;
}

export class CreateEventTypeDto extends EventTypeVersionDto {
  @ApiProperty({ example: 'order.created', description: '`<group>.<name>`: lower-case letters, digits and underscores; not a built-in group' })
  @IsString()
  @Length(3, 100)
  @Matches(EVENT_TYPE_SYNTAX, { message: 'name must be <group>.<name> in lower-case letters, digits and underscores, e.g. order.created' })
  name: string;

  @ApiProperty({ example: 'An order was placed.' })
  @IsString()
  @Length(1, 1000)
  description: string;

  @ApiProperty({ example: 'order', description: 'The kind of resource the events are about; its types share the resource path and topic' })
  @IsString()
  @Matches(MODEL_TYPE_SYNTAX, { message: 'model_type must be lower-case letters, digits and underscores, starting with a letter' })
  model_type: string;

  @ApiPropertyOptional({
    example: '/v0/orders/{id}',
    description:
      'Where thin-notification receivers read the latest snapshot (GET with an API key): `/v0/<segments>/{id}`. ' +
      'Default: the path the model type already has, or `/v0/<model_type>/{id}`.',
  })
  @IsOptional()
  @IsString()
  @Matches(RESOURCE_PATH_SYNTAX, { message: 'resource_path must be /v0/<segments>/{id}, e.g. /v0/orders/{id} (lower-case segments, 1 to 4)' })
  resource_path?: string;

  @ApiPropertyOptional({ example: 'shop_order', description: 'The thin notification’s `topic`. Default: the model type’s, or the model type' })
  @IsOptional()
  @IsString()
  @Matches(TOPIC_SYNTAX, { message: 'topic must be lower-case letters, digits, _ . or -, starting with a letter' })
  topic?: string;
}

// Neither field can be cleared: null is refused, not taken for "unchanged".
export class UpdateEventTypeDto {
  @ApiPropertyOptional()
  @ValidateIf((_, v) => v !== undefined)
  @IsString()
  @Length(1, 1000)
  description?: string;

  @ApiPropertyOptional({ description: 'A deprecated type is still accepted and delivered; publishing it says `deprecated: true`' })
  @ValidateIf((_, v) => v !== undefined)
  @IsBoolean()
  deprecated?: boolean;
}

export class UpdateEventTypeVersionDto {
  @ApiProperty({ description: 'A deprecated version is still accepted and delivered; publishing it says `deprecated: true`' })
  @IsBoolean()
  deprecated: boolean;
}

/** What a publisher sends: the envelope without the fields the hub fills from the caller's tenant. */
type PublishableExample = Omit<EventEnvelope, 'account_id' | 'account_url'> & { schema_version?: number };

function publishable(example: EventEnvelope, version: number | undefined): PublishableExample {
  const { account_id: _account, account_url: _url, ...rest } = example;
  return version === undefined ? rest : { ...rest, schema_version: version };
}

/** The example as a resource's first event, with the status the recorder would give it. */
function thinExample(def: EventTypeDefinition, example: EventEnvelope): ThinNotification {
  return toThinNotification(example, changeStatusFor(example, true), resourceLocation(def, example));
}

export class EventTypeVersionView {
  @ApiProperty({ example: 1 }) version: number;
  @ApiProperty() deprecated: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'Null for built-in types' }) created_at: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'JSON Schema of the model' }) model_schema: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'JSON Schema of `data`' }) data_schema: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'JSON Schema (2020-12) of the full event, as receivers get it' })
  schema: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'A body for POST /v1/events, accepted as it is' })
  example: PublishableExample;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The same event as a subscription with the full format receives it' })
  delivered_example: EventEnvelope;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The same event as a subscription with the thin format receives it' })
  thin_example: ThinNotification;

  static of(def: EventTypeDefinition, v: EventTypeVersion, latest: boolean): EventTypeVersionView {
    return {
      version: v.version,
      deprecated: v.deprecated,
      created_at: v.createdAt ?? null,
      model_schema: v.modelSchema,
      data_schema: v.dataSchema,
      schema: envelopeSchema(def, v),
      // The latest version's example leaves the version out: that is what a publisher who names none gets.
      example: publishable(v.example, latest ? undefined : v.version),
      delivered_example: v.example,
      thin_example: thinExample(def, v.example),
    };
  }
}

export class EventTypeView {
  @ApiProperty({ example: 'ticket.label_added' }) type: string;
  @ApiProperty() description: string;
  @ApiProperty({ enum: ['builtin', 'platform', 'tenant'], description: 'Built into the hub, defined by the platform for every tenant, or by this tenant' })
  scope: string;
  @ApiProperty({ example: 'ticket' }) model_type: string;
  @ApiProperty({ example: '/v0/tickets/{id}', description: 'Where a thin notification’s receiver reads the resource' }) resource_path: string;
  @ApiProperty({ example: 'sac_ticket', description: 'The thin notification’s `topic`' }) topic: string;
  @ApiProperty() deprecated: boolean;
  @ApiProperty({ description: 'The version an event without `schema_version` gets' }) latest_version: number;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'JSON Schema (2020-12) of the full event in the latest version' })
  schema: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'A body for POST /v1/events in the latest version, accepted as it is' })
  example: PublishableExample;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The latest version’s example as a full-format subscription receives it' })
  delivered_example: EventEnvelope;
  @ApiProperty({ type: [EventTypeVersionView], description: 'Every schema version, oldest first' }) versions: EventTypeVersionView[];

  static of(def: EventTypeDefinition): EventTypeView {
    const latest = latestVersion(def);
    const versions = def.versions.map((v) => EventTypeVersionView.of(def, v, v === latest));
    const current = versions[versions.length - 1];
    return {
      type: def.type,
      description: def.description,
      scope: def.scope,
      model_type: def.modelType,
      resource_path: def.resourcePath,
      topic: def.topic,
      deprecated: def.deprecated,
      latest_version: latest.version,
      schema: current.schema,
      example: current.example,
      delivered_example: current.delivered_example,
      versions,
    };
  }
}

export class EventTypeList {
  @ApiProperty({ type: [EventTypeView] }) items: EventTypeView[];
  @ApiProperty({ type: String, nullable: true, description: 'Always null: the catalogue is one page' }) next_cursor: null;
}

/** Longest JSON text of one schema or example. */
export const MAX_SCHEMA_BYTES = 65_536;
