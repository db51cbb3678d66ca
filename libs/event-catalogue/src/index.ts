// What the apps and delivery use: the module, and the registry that validates events and locates their resources.
export { EventCatalogueModule } from './event-catalogue.module';
export { definitionOf, EventTypeRegistry } from './event-type-registry';
