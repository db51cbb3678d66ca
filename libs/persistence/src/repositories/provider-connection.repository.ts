import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ProviderConnectionEntity } from '../entities/provider-connection.entity';
import { keysetPage, Page } from './keyset';

@Injectable()
export class ProviderConnectionRepository {
  constructor(@InjectRepository(ProviderConnectionEntity) private readonly repo: Repository<ProviderConnectionEntity>) {}

  create(input: Partial<ProviderConnectionEntity>): Promise<ProviderConnectionEntity> {
    return this.repo.save(this.repo.create(input));
  }

  save(connection: ProviderConnectionEntity): Promise<ProviderConnectionEntity> {
    return this.repo.save(connection);
  }

  findById(id: string): Promise<ProviderConnectionEntity | null> {
    return this.repo.findOneBy({ id });
  }

  findForTenant(tenantId: string, id: string): Promise<ProviderConnectionEntity | null> {
    return this.repo.findOneBy({ tenantId, id });
  }

  /** Newest first; the cursor is the id of the last item of the previous page. */
  listForTenant(tenantId: string, limit: number, cursor?: string): Promise<Page<ProviderConnectionEntity>> {
    const qb = this.repo.createQueryBuilder('c').where('c.tenant_id = :tenantId', { tenantId });
    return keysetPage(qb, { orderedBy: 'created_at', limit, cursor, cursorWithin: { column: 'tenant_id', value: tenantId } });
  }

  async deleteForTenant(tenantId: string, id: string): Promise<boolean> {
    const result = await this.repo.delete({ tenantId, id });
    return (result.affected ?? 0) > 0;
  }
}
