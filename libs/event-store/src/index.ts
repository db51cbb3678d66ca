export * from './event-recorder';
export * from './event-store.module';
export * from './envelope-text';
