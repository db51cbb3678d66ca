// The admin API's check of a webhook URL at create time (against DNS).
export { checkWebhookDestination, type DestinationCheckOptions, type HostResolver } from './destination-check';
// Delivery's check before each send: the URL policy and the address rules for the resolved addresses.
export { checkWebhookUrl, type UrlPolicyOptions, type UrlVerdict } from './url-policy';
export { isLoopbackAddress, isPublicAddress } from './address-policy';
