// Integration tests talk to the machine's NATS and PostgreSQL unless told otherwise.
process.env.NATS_URL ??= 'nats://127.0.0.1:4222';
process.env.TEST_DATABASE_ADMIN_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
process.env.LOG_LEVEL ??= 'warn';
jest.setTimeout(120_000);
