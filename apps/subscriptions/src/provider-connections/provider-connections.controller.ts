import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ProviderRegistry } from '@hookhub/ingest';
import { ProviderCallbackRepository } from '@hookhub/persistence';
import { Problems } from '@hookhub/platform';
import { PROVIDER_NAMES } from '@hookhub/providers';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, Principal, RequireRoles } from '../auth/principal';
import { ListQuery } from '../common/pagination.dto';
import { ParseResourceIdPipe } from '../common/parse-id.pipe';
import {
  CallbackDetailView,
  CallbackPage,
  CallbackView,
  CreateProviderConnectionDto,
  ProviderConnectionPage,
  ProviderConnectionView,
  ProviderList,
  UpdateProviderConnectionDto,
} from './provider-connection.dto';
import { ProviderConnectionsService } from './provider-connections.service';

/** Incoming provider webhooks: the connections that receive them and the callbacks they stored. */
@ApiTags('provider connections')
@ApiBearerAuth('api-key')
@UseGuards(ApiKeyGuard)
@Controller('v1')
export class ProviderConnectionsController {
  constructor(
    private readonly service: ProviderConnectionsService,
    private readonly registry: ProviderRegistry,
    private readonly callbacks: ProviderCallbackRepository,
  ) {}

  @Get('providers')
  @RequireRoles('admin', 'reader')
  @ApiOperation({ summary: 'The providers a connection can be made to, with their credential fields' })
  @ApiOkResponse({ type: ProviderList, description: 'Every provider' })
  listProviders(): ProviderList {
    const items = PROVIDER_NAMES.map((p) => {
      const adapter = this.registry.get(p);
      return { provider: p, credentials: adapter.credentials, accepts_get: adapter.acceptsGet === true };
    });
    return { items, next_cursor: null };
  }

  @Post('provider-connections')
  @HttpCode(201)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Connect a provider; its callbacks go to ingest_path on provider-ingest' })
  @ApiCreatedResponse({ type: ProviderConnectionView, description: 'The connection; configure its `ingest_url` at the provider' })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateProviderConnectionDto): Promise<ProviderConnectionView> {
    return this.service.create(principal, dto);
  }

  @Get('provider-connections')
  @RequireRoles('admin', 'reader')
  @ApiOperation({ summary: 'List provider connections, newest first' })
  @ApiOkResponse({ type: ProviderConnectionPage, description: 'One page of connections' })
  async list(@CurrentPrincipal() principal: Principal, @Query() query: ListQuery): Promise<ProviderConnectionPage> {
    const page = await this.service.list(principal, query.limit ?? 50, query.cursor);
    return { items: page.items, next_cursor: page.nextCursor };
  }

  @Get('provider-connections/:id')
  @RequireRoles('admin', 'reader')
  @ApiOperation({ summary: 'A provider connection (secret credentials are never shown)' })
  @ApiOkResponse({ type: ProviderConnectionView, description: 'The connection' })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', new ParseResourceIdPipe('Provider connection')) id: string,
  ): Promise<ProviderConnectionView> {
    return this.service.view(await this.service.get(principal, id));
  }

  @Patch('provider-connections/:id')
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Change a provider connection; credential fields left out keep their value' })
  @ApiOkResponse({ type: ProviderConnectionView, description: 'The changed connection' })
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', new ParseResourceIdPipe('Provider connection')) id: string,
    @Body() dto: UpdateProviderConnectionDto,
  ): Promise<ProviderConnectionView> {
    return this.service.update(principal, id, dto);
  }

  @Delete('provider-connections/:id')
  @HttpCode(204)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Delete a provider connection; its callbacks are refused from now on' })
  @ApiNoContentResponse({ description: 'Deleted' })
  async remove(@CurrentPrincipal() principal: Principal, @Param('id', new ParseResourceIdPipe('Provider connection')) id: string): Promise<void> {
    await this.service.remove(principal, id);
  }

  @Get('provider-connections/:id/callbacks')
  @RequireRoles('admin', 'reader')
  @ApiOperation({ summary: 'Callbacks this connection stored, newest first (without bodies)' })
  @ApiOkResponse({ type: CallbackPage, description: 'One page of callbacks' })
  async listCallbacks(
    @CurrentPrincipal() principal: Principal,
    @Param('id', new ParseResourceIdPipe('Provider connection')) id: string,
    @Query() query: ListQuery,
  ): Promise<CallbackPage> {
    await this.service.get(principal, id);
    const page = await this.callbacks.pageForConnection(principal.tenantId, id, query.limit ?? 50, query.cursor);
    return { items: page.items.map(CallbackView.of), next_cursor: page.nextCursor };
  }

  @Get('provider-connections/:id/callbacks/:callbackId')
  @RequireRoles('admin', 'reader')
  @ApiOperation({ summary: 'A stored callback with its headers and body' })
  @ApiOkResponse({ type: CallbackDetailView, description: 'The callback' })
  async getCallback(
    @CurrentPrincipal() principal: Principal,
    @Param('id', new ParseResourceIdPipe('Provider connection')) id: string,
    @Param('callbackId', new ParseResourceIdPipe('Callback')) callbackId: string,
  ): Promise<CallbackDetailView> {
    const callback = await this.callbacks.findForTenant(principal.tenantId, id, callbackId);
    if (!callback) throw Problems.notFound('Callback');
    return { ...CallbackView.of(callback), headers: callback.headers, ...CallbackDetailView.body(callback.body) };
  }

  @Post('provider-connections/:id/callbacks/:callbackId/reprocess')
  @HttpCode(202)
  @RequireRoles('admin')
  @ApiOperation({
    summary: 'Normalise and publish a stored callback again (within a second). Events keep their ids, so ones already published are not duplicated.',
  })
  @ApiAcceptedResponse({ type: CallbackView, description: 'The callback, queued' })
  async reprocess(
    @CurrentPrincipal() principal: Principal,
    @Param('id', new ParseResourceIdPipe('Provider connection')) id: string,
    @Param('callbackId', new ParseResourceIdPipe('Callback')) callbackId: string,
  ): Promise<CallbackView> {
    const callback = await this.callbacks.requeue(principal.tenantId, id, callbackId);
    if (!callback) throw Problems.notFound('Callback');
    return CallbackView.of(callback);
  }
}
