import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { envelopeSchema, EVENT_TYPE_DEFINITIONS, EventEnvelope, MODEL_TYPES } from '@hookhub/contracts';

class EventTypeView {
  @ApiProperty({ example: 'ticket.label_added' }) type: string;
  @ApiProperty() description: string;
  @ApiProperty({ enum: MODEL_TYPES }) model_type: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'JSON Schema (2020-12) of the full event' })
  schema: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true }) example: EventEnvelope;
}

class EventTypeList {
  @ApiProperty({ type: [EventTypeView] }) items: EventTypeView[];
}

/** The catalogue of events one can subscribe to, with their structure (public: it holds no tenant data). */
@ApiTags('event-types')
@Controller('v1/event-types')
export class EventTypesController {
  private readonly list: EventTypeList = {
    items: EVENT_TYPE_DEFINITIONS.map((d) => ({
      type: d.type,
      description: d.description,
      model_type: d.modelType,
      schema: envelopeSchema(d),
      example: d.example,
    })),
  };

  @Get()
  @ApiOperation({ summary: 'Event types with a JSON Schema and an example each' })
  @ApiOkResponse({ type: EventTypeList })
  all(): EventTypeList {
    return this.list;
  }
}
