// What the apps and libs wire: the module and the vault that seals and opens secrets.
export { SigningModule } from './signing.module';
export { SecretVault } from './secret-vault';
// Secrets and signature headers: the admin API generates and checks secrets; delivery signs each request.
export { generateSecret, isValidSecret, signatureHeaders, type SignatureSchemeName, type SignInput } from './webhook-signer';
