import { EventEnvelope, isBuiltInModelType } from '../envelope';
import { builtInResourceLocation, ResourceLocation } from '../thin-notification';
import type { EventTypeDefinition } from './event-types';

/*
 * Where the resource API serves the latest snapshot of a defined type's
 * model: a path under `/v0` of fixed segments ending in the model id, e.g.
 * `/v0/orders/{id}` or `/v0/billing/invoices/{id}`. Only the id varies, so a
 * path is found from the model id alone, even after a deletion erased the
 * model (the built-in message and survey-response paths, which need a
 * parent's id too, are the hub's own).
 */

/** The syntax of a defined type's `resource_path`. */
export const RESOURCE_PATH_SYNTAX = /^\/v0(\/[a-z0-9_-]{1,64}){1,4}\/\{id\}$/;

/** The first segments under `/v0` that the built-in resources use. */
export const BUILT_IN_RESOURCE_ROOTS: readonly string[] = ['tickets', 'messages', 'surveys'];

/** The path of the resource `id` under `template`. */
export function fillResourcePath(template: string, id: string): string {
  return template.replace('{id}', encodeURIComponent(id));
}

/** The collection part of a template: `/v0/orders/{id}` → `/v0/orders`. */
export function resourceCollection(template: string): string {
  return template.slice(0, -'/{id}'.length);
}

/** Where a thin notification of `event`, of the type `def`, sends its receiver, and its topic. */
export function resourceLocation(def: EventTypeDefinition, event: EventEnvelope): ResourceLocation {
  if (isBuiltInModelType(event.model_type)) return builtInResourceLocation(event);
  return { params: { id: event.model_id }, resource: fillResourcePath(def.resourcePath, event.model_id), topic: def.topic };
}
