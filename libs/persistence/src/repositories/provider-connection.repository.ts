import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ProviderConnectionEntity } from '../entities';
import type { Page } from './subscription.repository';

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
  async listForTenant(tenantId: string, limit: number, cursor?: string): Promise<Page<ProviderConnectionEntity>> {
    const qb = this.repo
      .createQueryBuilder('c')
      .where('c.tenant_id = :tenantId', { tenantId })
      .orderBy('c.created_at', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .limit(limit + 1);
    if (cursor) {
      qb.andWhere(
        '(c.created_at, c.id) < (SELECT p.created_at, p.id FROM provider_connections p WHERE p.id = :cursor AND p.tenant_id = :tenantId)',
        { cursor },
      );
    }
    const rows = await qb.getMany();
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
  }

  async deleteForTenant(tenantId: string, id: string): Promise<boolean> {
    const result = await this.repo.delete({ tenantId, id });
    return (result.affected ?? 0) > 0;
  }
}
