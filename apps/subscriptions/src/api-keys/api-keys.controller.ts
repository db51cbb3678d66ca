import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, NoPortalSessions, Principal, RequireRoles } from '../auth/principal';
import { ListQuery } from '../common/pagination.dto';
import { ParseResourceIdPipe } from '../common/parse-id.pipe';
import { ApiKeyView, CreateApiKeyDto, CreatedApiKeyView } from '../tenants/tenant.dto';
import { ApiKeyPage } from './api-key-page.dto';
import { ApiKeysService } from './api-keys.service';

/** A tenant's admins manage the tenant's own keys. */
@ApiTags('api-keys')
@ApiBearerAuth('api-key')
@UseGuards(ApiKeyGuard)
@RequireRoles('admin')
@NoPortalSessions()
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a key; it is shown once' })
  @ApiCreatedResponse({ type: CreatedApiKeyView, description: 'The key, shown only here' })
  async create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyView> {
    const { entity, key } = await this.keys.create(principal.tenantId, dto);
    return { ...ApiKeyView.of(entity), key };
  }

  @Get()
  @ApiOperation({ summary: "The tenant's keys, newest first, revoked ones included (never the keys themselves)" })
  @ApiOkResponse({ type: ApiKeyPage, description: 'One page of keys' })
  async list(@CurrentPrincipal() principal: Principal, @Query() query: ListQuery): Promise<ApiKeyPage> {
    const page = await this.keys.list(principal.tenantId, query.limit ?? 50, query.cursor);
    return { items: page.items.map(ApiKeyView.of), next_cursor: page.nextCursor };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a key at once; subscriptions it created stop sending' })
  @ApiNoContentResponse({ description: 'Revoked' })
  async revoke(@CurrentPrincipal() principal: Principal, @Param('id', new ParseResourceIdPipe('API key')) id: string): Promise<void> {
    await this.keys.revoke(principal.tenantId, id);
  }
}
