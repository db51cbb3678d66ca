export * from './event-recorder';
export * from './event-store.module';
