// Integration tests talk to the machine's NATS and PostgreSQL unless told otherwise.
// Expected warnings (rejected callbacks, disabled subscriptions) stay out of a passing run's output; LOG_LEVEL=warn shows them.
process.env.NATS_URL ??= 'nats://127.0.0.1:4222';
process.env.TEST_DATABASE_ADMIN_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
process.env.LOG_LEVEL ??= 'error';
jest.setTimeout(120_000);
