import { Injectable } from '@nestjs/common';
import { EventTypeRegistry } from '@hookhub/event-catalogue';
import { EventLogRepository } from '@hookhub/persistence';
import { Problems } from '@hookhub/platform';
import type { Principal } from '../auth/principal';

/** The latest snapshot the event log holds of a tenant's resource. */
@Injectable()
export class ResourcesService {
  constructor(
    private readonly log: EventLogRepository,
    private readonly registry: EventTypeRegistry,
  ) {}

  /** The snapshot at `path`, a `resource_path` of one of the types the tenant sees with the model id in place of `{id}`. */
  async definedSnapshot(p: Principal, path: string): Promise<Record<string, unknown>> {
    const found = await this.registry.definedResourceAt(p.tenantId, path);
    if (!found) throw Problems.notFound('Resource');
    return this.snapshot(p, found.definition.modelType, found.id, 'Resource');
  }

  /**
   * The resource's model: 404 when it was never recorded (or `parent` does
   * not match it), 410 when it was deleted. `what` names it in the problem.
   */
  async snapshot(p: Principal, modelType: string, id: string, what: string, parent?: Record<string, string>): Promise<Record<string, unknown>> {
    if (id.includes('\0')) throw Problems.notFound(what); // no model id holds U+0000 (PostgreSQL cannot store it), and the query would fail
    const snap = await this.log.findSnapshot(p.tenantId, modelType, id);
    if (!snap || snap.version === 0) throw Problems.notFound(what);
    if (snap.deletedAt) throw Problems.gone(what);
    if (!snap.model) throw Problems.notFound(what);
    if (parent && Object.entries(parent).some(([k, v]) => snap.model?.[k] !== v)) throw Problems.notFound(what);
    return snap.model;
  }
}
