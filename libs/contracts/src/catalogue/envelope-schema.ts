import { isDeletionType } from '../thin-notification';
import type { EventTypeDefinition, EventTypeVersion, JsonSchema } from './event-types';

export const EVENT_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';

/** The JSON Schema of a whole event of one type and schema version: envelope, `data` and `model`. */
export function envelopeSchema(def: EventTypeDefinition, version: EventTypeVersion): JsonSchema {
  const deletion = isDeletionType(def.type);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: version.version === 1 ? def.type : `${def.type} v${version.version}`,
    description: def.description,
    type: 'object',
    required: ['id', 'account_id', 'created_at', 'type', 'data', 'model_type', 'model_id', 'model'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', pattern: EVENT_ID_PATTERN },
      account_id: { type: 'string', minLength: 1, maxLength: 64 },
      account_url: { type: 'string', maxLength: 2048 },
      created_at: { type: 'string', format: 'date-time' },
      type: { const: def.type },
      data: version.dataSchema,
      actor_type: { type: ['string', 'null'], maxLength: 64 },
      actor_id: { type: ['string', 'null'], maxLength: 128 },
      actor_name: { type: ['string', 'null'], maxLength: 256 },
      model_type: { const: def.modelType },
      model_id: { type: 'string', minLength: 1, maxLength: 128 },
      model: deletion || version.modelNullable ? { oneOf: [{ type: 'null' }, version.modelSchema] } : version.modelSchema,
    },
  };
}
