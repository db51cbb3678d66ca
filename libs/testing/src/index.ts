// Test-only helpers shared by the lib specs and test/: never imported by apps/ or by a lib's production code.
export * from './envelopes';
export * from './provider-signers/gupshup';
export * from './provider-signers/mailgun';
export * from './provider-signers/messagebird';
export * from './provider-signers/meta';
export * from './provider-signers/plivo';
export * from './provider-signers/sample-mail';
export * from './provider-signers/sendgrid-inbound';
export * from './provider-signers/sendgrid';
export * from './provider-signers/ses';
export * from './provider-signers/signed-request';
export * from './provider-signers/twilio';
export * from './provider-signers/vonage';
