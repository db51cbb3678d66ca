import { Controller, Get, Param, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiGoneResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, Principal, RequireRoles } from '../auth/principal';
import { ResourcesService } from './resources.service';

/**
 * The latest snapshot of each resource, for receivers of thin notifications
 * that fetch what changed. A deleted resource answers 410 with no data, and so
 * do a deleted ticket's messages: the recorder deletes them with the ticket.
 */
@ApiTags('resources')
@ApiBearerAuth('api-key')
@UseGuards(ApiKeyGuard)
@RequireRoles('reader', 'publisher')
@Controller('v0')
export class ResourcesController {
  constructor(private readonly resources: ResourcesService) {}

  @Get('tickets/:id')
  @ApiOperation({ summary: 'Latest snapshot of a ticket' })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: true }, description: 'The latest snapshot' })
  @ApiGoneResponse({ description: 'The ticket was deleted' })
  ticket(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<Record<string, unknown>> {
    return this.resources.snapshot(p, 'ticket', id, 'Ticket');
  }

  @Get('tickets/:ticketId/messages/:id')
  @ApiOperation({ summary: 'Latest snapshot of a ticket message' })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: true }, description: 'The latest snapshot' })
  @ApiGoneResponse({ description: 'The message, or its ticket, was deleted' })
  message(@CurrentPrincipal() p: Principal, @Param('ticketId') ticketId: string, @Param('id') id: string): Promise<Record<string, unknown>> {
    return this.resources.snapshot(p, 'message', id, 'Message', { ticket_id: ticketId });
  }

  @Get('messages/:id')
  @ApiOperation({ summary: 'Latest snapshot of a message, by id alone (thin notifications of delivery reports on unknown messages point here)' })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: true }, description: 'The latest snapshot' })
  @ApiGoneResponse({ description: 'The message, or its ticket, was deleted' })
  messageById(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<Record<string, unknown>> {
    return this.resources.snapshot(p, 'message', id, 'Message');
  }

  @Get('surveys/:surveyId/responses/:id')
  @ApiOperation({ summary: 'Latest snapshot of a survey response' })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: true }, description: 'The latest snapshot' })
  @ApiGoneResponse({ description: 'The response was deleted' })
  surveyResponse(@CurrentPrincipal() p: Principal, @Param('surveyId') surveyId: string, @Param('id') id: string): Promise<Record<string, unknown>> {
    return this.resources.snapshot(p, 'survey_response', id, 'Survey response', { survey_id: surveyId });
  }

  // Last, so the built-in routes above match first.
  @Get('*path')
  @ApiOperation({
    summary: 'Latest snapshot of a resource of an event type defined through the API, at its `resource_path` (e.g. /v0/orders/{id})',
  })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: true }, description: 'The latest snapshot' })
  @ApiGoneResponse({ description: 'The resource was deleted' })
  defined(@CurrentPrincipal() p: Principal, @Req() req: { path: string }): Promise<Record<string, unknown>> {
    return this.resources.definedSnapshot(p, req.path);
  }
}
