export * from './address-policy';
export * from './url-policy';
