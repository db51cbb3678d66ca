export * from './webhook-signer';
export * from './secret-vault';
export * from './signing.module';
