import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ConnectionCredentials, ProviderRegistry } from '@hookhub/ingest';
import { Page, ProviderConnectionEntity, ProviderConnectionRepository } from '@hookhub/persistence';
import { Problems } from '@hookhub/platform';
import type { Credentials, ProviderName } from '@hookhub/providers';
import type { Principal } from '../auth/principal';
import type { SubscriptionsConfig } from '../subscriptions.config';
import { CreateProviderConnectionDto, ProviderConnectionView, UpdateProviderConnectionDto } from './provider-connection.dto';

/** A tenant's provider connections: credentials checked against the provider's spec, secrets sealed. */
@Injectable()
export class ProviderConnectionsService {
  private readonly ingestBase: string;

  constructor(
    private readonly connections: ProviderConnectionRepository,
    private readonly registry: ProviderRegistry,
    private readonly credentials: ConnectionCredentials,
    config: ConfigService<SubscriptionsConfig, true>,
  ) {
    this.ingestBase = config.get('INGEST_PUBLIC_URL', { infer: true });
  }

  async create(principal: Principal, dto: CreateProviderConnectionDto): Promise<ProviderConnectionView> {
    const spec = this.registry.get(dto.provider).credentials;
    this.check(spec, dto.credentials, {});
    const sealed = this.credentials.seal(spec, dto.credentials as Credentials);
    const created = await this.connections.create({
      tenantId: principal.tenantId,
      provider: dto.provider,
      name: dto.name ?? null,
      publicUrl: dto.public_url ?? null,
      settings: sealed.settings,
      secretsCiphertext: sealed.secretsCiphertext,
      statusMap: dto.status_map ?? {},
    });
    return this.view(created);
  }

  async list(principal: Principal, limit: number, cursor?: string): Promise<Page<ProviderConnectionView>> {
    const page = await this.connections.listForTenant(principal.tenantId, limit, cursor);
    return { items: page.items.map((c) => this.view(c)), nextCursor: page.nextCursor };
  }

  async get(principal: Principal, id: string): Promise<ProviderConnectionEntity> {
    const connection = await this.connections.findForTenant(principal.tenantId, id);
    if (!connection) throw Problems.notFound('Provider connection');
    return connection;
  }

  async update(principal: Principal, id: string, dto: UpdateProviderConnectionDto): Promise<ProviderConnectionView> {
    const connection = await this.get(principal, id);
    const spec = this.registry.get(connection.provider as ProviderName).credentials;
    if (dto.credentials) {
      const current = this.credentials.open(connection);
      this.check(spec, dto.credentials, current);
      const sealed = this.credentials.seal(spec, { ...current, ...(dto.credentials as Credentials) });
      connection.settings = sealed.settings;
      connection.secretsCiphertext = sealed.secretsCiphertext;
    }
    if (dto.name !== undefined) connection.name = dto.name;
    if (dto.public_url !== undefined) connection.publicUrl = dto.public_url;
    if (dto.status_map !== undefined) connection.statusMap = dto.status_map ?? {}; // null clears the overrides, as on creation
    return this.view(await this.connections.save(connection));
  }

  async remove(principal: Principal, id: string): Promise<void> {
    if (!(await this.connections.deleteForTenant(principal.tenantId, id))) throw Problems.notFound('Provider connection');
  }

  view(connection: ProviderConnectionEntity): ProviderConnectionView {
    const spec = this.registry.get(connection.provider as ProviderName).credentials;
    return ProviderConnectionView.of(connection, spec, ConnectionCredentials.secretFieldsSet(spec, this.credentials.open(connection)), this.ingestBase);
  }

  private check(spec: Parameters<ConnectionCredentials['validate']>[0], input: Record<string, unknown>, current: Credentials): void {
    const problems = this.credentials.validate(spec, input, current);
    if (problems.length > 0) {
      throw Problems.validation(
        'The credentials do not match what this provider needs',
        problems.map((p) => ({ pointer: `#/credentials/${p.field}`, detail: p.detail })),
      );
    }
  }
}
