import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { TenantEntity } from '../entities';

@Injectable()
export class TenantRepository {
  constructor(@InjectRepository(TenantEntity) private readonly repo: Repository<TenantEntity>) {}

  create(input: { name: string; accountUrl?: string }): Promise<TenantEntity> {
    return this.repo.save(this.repo.create({ name: input.name, accountUrl: input.accountUrl ?? '' }));
  }

  findById(id: string): Promise<TenantEntity | null> {
    return this.repo.findOneBy({ id });
  }

}
