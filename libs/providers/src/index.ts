export * from './provider-adapter';
export * from './callback-support';
