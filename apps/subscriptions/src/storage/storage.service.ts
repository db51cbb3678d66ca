import { Inject, Injectable } from '@nestjs/common';
import { TenantRepository } from '@hookhub/persistence';
import { Problems } from '@hookhub/platform';
import { STORAGE_SETTINGS, StorageReport, StorageSettings } from '@hookhub/storage';
import { retentionView, StorageView, TenantRetentionDto, TenantRetentionView } from './storage.dto';

const VARIABLE = { events_days: 'EVENTS_RETENTION_DAYS', deliveries_days: 'DELIVERIES_RETENTION_DAYS', callbacks_days: 'CALLBACKS_RETENTION_DAYS' } as const;

@Injectable()
export class StorageService {
  constructor(
    private readonly report: StorageReport,
    private readonly tenants: TenantRepository,
    @Inject(STORAGE_SETTINGS) private readonly settings: StorageSettings,
  ) {}

  async storage(): Promise<StorageView> {
    return StorageView.of(await this.report.report());
  }

  async retention(tenantId: string): Promise<TenantRetentionView> {
    const tenant = await this.tenants.findById(tenantId);
    if (!tenant) throw Problems.notFound('Tenant');
    return TenantRetentionView.of(tenant, retentionView(this.settings.retentionDays));
  }

  /**
   * A tenant may only keep less than the deployment: every tenant's rows share
   * the day partitions, which expire at the deployment's retention.
   */
  async setRetention(tenantId: string, dto: TenantRetentionDto): Promise<TenantRetentionView> {
    const deployment = retentionView(this.settings.retentionDays);
    const errors = (Object.keys(VARIABLE) as Array<keyof typeof VARIABLE>)
      .filter((field) => dto[field] !== null && dto[field]! > deployment[field])
      .map((field) => ({
        pointer: `#/${field}`,
        detail: `must be at most ${deployment[field]} (${VARIABLE[field]}): a tenant can keep less history than the deployment, not more`,
      }));
    if (errors.length > 0) {
      throw Problems.unprocessable(
        'retention-too-long',
        'Retention longer than the deployment',
        errors.map((e) => `${e.pointer.slice(2)} ${e.detail}`).join('; '),
        errors,
      );
    }
    const tenant = await this.tenants.setRetention(tenantId, { events: dto.events_days, deliveries: dto.deliveries_days, callbacks: dto.callbacks_days });
    if (!tenant) throw Problems.notFound('Tenant');
    return TenantRetentionView.of(tenant, deployment);
  }
}
