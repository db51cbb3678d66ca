import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminTokenGuard } from '../auth/admin-token.guard';
import { CreateApiKeyDto, CreatedApiKeyView, CreateTenantDto, TenantView } from './tenant.dto';
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
  @ApiCreatedResponse({ type: TenantView })
  async create(@Body() dto: CreateTenantDto): Promise<TenantView> {
    return TenantView.of(await this.tenants.create({ name: dto.name, accountUrl: dto.account_url }));
  }

  @Post(':tenantId/api-keys')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an API key for a tenant; the key is shown once' })
  @ApiCreatedResponse({ type: CreatedApiKeyView })
  async createKey(@Param('tenantId', ParseUUIDPipe) tenantId: string, @Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyView> {
    const { entity, key } = await this.tenants.createKey(tenantId, dto);
    return { ...CreatedApiKeyView.of(entity), key };
  }
}
