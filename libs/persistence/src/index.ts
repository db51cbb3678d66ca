export * from './entities';
export * from './repositories';
export * from './database';
export * from './persistence.module';
