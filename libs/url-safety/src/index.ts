export * from './address-policy';
export * from './url-policy';
export * from './destination-check';
