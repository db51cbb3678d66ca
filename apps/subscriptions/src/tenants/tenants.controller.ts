import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminTokenGuard } from '../auth/admin-token.guard';
import { ListQuery } from '../common/pagination.dto';
import { CreateApiKeyDto, CreatedApiKeyView, CreateTenantDto, TenantPage, TenantView } from './tenant.dto';
import { TenantsService } from './tenants.service';

/** Bootstrap with the admin token: tenants and their first API keys. */
@ApiTags('tenants')
@ApiBearerAuth('admin-token')
@UseGuards(AdminTokenGuard)
@Controller('v1/tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a tenant' })
  @ApiCreatedResponse({ type: TenantView, description: 'The tenant' })
  async create(@Body() dto: CreateTenantDto): Promise<TenantView> {
    return TenantView.of(await this.tenants.create({ name: dto.name, accountUrl: dto.account_url }));
  }

  @Get()
  @ApiOperation({ summary: 'List tenants, newest first' })
  @ApiOkResponse({ type: TenantPage, description: 'One page of tenants' })
  async list(@Query() query: ListQuery): Promise<TenantPage> {
    const page = await this.tenants.list(query.limit ?? 50, query.cursor);
    return { items: page.items.map(TenantView.of), next_cursor: page.nextCursor };
  }

  @Post(':tenantId/api-keys')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an API key for a tenant; the key is shown once' })
  @ApiCreatedResponse({ type: CreatedApiKeyView, description: 'The key, shown only here' })
  async createKey(@Param('tenantId', ParseUUIDPipe) tenantId: string, @Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyView> {
    const { entity, key } = await this.tenants.createKey(tenantId, dto);
    return { ...CreatedApiKeyView.of(entity), key };
  }
}
