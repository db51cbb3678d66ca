// Integration tests talk to the machine's NATS and PostgreSQL unless told otherwise.
// The apps' logs go to a file per test file (test-logs.js), shown when it fails; LOG_LEVEL=info puts more in it.
process.env.NATS_URL ??= 'nats://127.0.0.1:4222';
process.env.TEST_DATABASE_ADMIN_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
jest.setTimeout(120_000);
