import { Body, Controller, Get, Param, ParseUUIDPipe, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { AdminTokenGuard } from '../auth/admin-token.guard';
import { StorageView, TenantRetentionDto, TenantRetentionView } from './storage.dto';
import { StorageService } from './storage.service';

/** Storage and retention, for the platform's operators (admin token). */
@ApiTags('storage')
@ApiBearerAuth('admin-token')
@UseGuards(AdminTokenGuard)
@Controller('v1')
export class StorageController {
  constructor(private readonly storage: StorageService) {}

  @Get('admin/storage')
  @ApiOperation({ summary: 'Partitions, sizes, oldest data, next expiry and the last retention run', operationId: 'storage.get' })
  @ApiOkResponse({ type: StorageView })
  get(): Promise<StorageView> {
    return this.storage.storage();
  }

  @Get('tenants/:tenantId/retention')
  @ApiOperation({ summary: "A tenant's retention overrides and what is in force", operationId: 'tenants.getRetention' })
  @ApiOkResponse({ type: TenantRetentionView })
  @ApiNotFoundResponse({ description: 'No such tenant' })
  retention(@Param('tenantId', ParseUUIDPipe) tenantId: string): Promise<TenantRetentionView> {
    return this.storage.retention(tenantId);
  }

  @Put('tenants/:tenantId/retention')
  @ApiOperation({ summary: "Sets a tenant's retention overrides (each at most the deployment's; null: the deployment's)", operationId: 'tenants.setRetention' })
  @ApiOkResponse({ type: TenantRetentionView })
  @ApiNotFoundResponse({ description: 'No such tenant' })
  @ApiUnprocessableEntityResponse({ description: "A retention longer than the deployment's (`retention-too-long`)" })
  setRetention(@Param('tenantId', ParseUUIDPipe) tenantId: string, @Body() dto: TenantRetentionDto): Promise<TenantRetentionView> {
    return this.storage.setRetention(tenantId, dto);
  }
}
