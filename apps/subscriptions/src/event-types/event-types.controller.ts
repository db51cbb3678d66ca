import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { envelopeSchema, EVENT_TYPE_DEFINITIONS, EventEnvelope, MODEL_TYPES } from '@hookhub/contracts';

/** What a publisher sends: the envelope without the fields the hub fills from the caller's tenant. */
type PublishableExample = Omit<EventEnvelope, 'account_id' | 'account_url'>;

class EventTypeView {
  @ApiProperty({ example: 'ticket.label_added' }) type: string;
  @ApiProperty() description: string;
  @ApiProperty({ enum: MODEL_TYPES }) model_type: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'JSON Schema (2020-12) of the full event, as receivers get it' })
  schema: Record<string, unknown>;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'A body for POST /v1/events, accepted as it is: the hub adds `account_id` and `account_url` from the API key’s tenant',
  })
  example: PublishableExample;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The same event as a subscription with the full format receives it' })
  delivered_example: EventEnvelope;
}

class EventTypeList {
  @ApiProperty({ type: [EventTypeView] }) items: EventTypeView[];
  @ApiProperty({ type: String, nullable: true, description: 'Always null: the catalogue is one page' }) next_cursor: null;
}

/** The catalogue of events one can subscribe to, with their structure (public: it holds no tenant data). */
@ApiTags('event-types')
@Controller('v1/event-types')
export class EventTypesController {
  private readonly catalogue: EventTypeList = {
    items: EVENT_TYPE_DEFINITIONS.map((d) => {
      const { account_id: _account, account_url: _url, ...publishable } = d.example;
      return {
        type: d.type,
        description: d.description,
        model_type: d.modelType,
        schema: envelopeSchema(d),
        example: publishable,
        delivered_example: d.example,
      };
    }),
    next_cursor: null,
  };

  @Get()
  @ApiOperation({ summary: 'Event types with a JSON Schema and an example each' })
  @ApiOkResponse({ type: EventTypeList, description: 'The whole catalogue' })
  list(): EventTypeList {
    return this.catalogue;
  }
}
