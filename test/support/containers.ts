import { existsSync } from 'node:fs';
import { GenericContainer, getContainerRuntimeClient, StartedTestContainer, Wait } from 'testcontainers';

/**
 * NATS and PostgreSQL for the tests that need them, found one of two ways:
 * - running services, when NATS_URL, DATABASE_URL or TEST_DATABASE_ADMIN_URL is set, or no Docker engine
 *   is reachable (then the defaults, 127.0.0.1:4222 and 127.0.0.1:5432, as jest-setup.ts sets them);
 * - containers otherwise: NATS with JetStream and PostgreSQL 15, the images of docker-compose.yml
 *   (test/docs/compose-files.e2e-spec.ts keeps them equal), started once per run.
 *
 * Jest's globalSetup and globalTeardown both name this file: the first call starts, the second stops.
 * The variables it sets reach the test workers, which start after it.
 */
export const NATS_IMAGE = 'nats:2.10-alpine';
export const POSTGRES_IMAGE = 'postgres:15-alpine';

const started = globalThis as { hookhubContainers?: StartedTestContainer[] };

export default async function containers(): Promise<void> {
  if (started.hookhubContainers) {
    await Promise.all(started.hookhubContainers.map((c) => c.stop()));
    delete started.hookhubContainers;
    return;
  }
  if (!(await wantContainers())) {
    // CI's container step sets it, so that a run which quietly used the machine's services fails.
    if (process.env.TEST_CONTAINERS === 'required') throw new Error('TEST_CONTAINERS=required, but services are configured or no Docker engine is reachable');
    return;
  }
  const [nats, postgres] = await Promise.all([
    new GenericContainer(process.env.TEST_NATS_IMAGE ?? NATS_IMAGE)
      .withCommand(['-js', '-m', '8222'])
      .withExposedPorts(4222, 8222)
      .withWaitStrategy(Wait.forHttp('/healthz', 8222))
      .start(),
    new GenericContainer(process.env.TEST_POSTGRES_IMAGE ?? POSTGRES_IMAGE)
      .withEnvironment({ POSTGRES_PASSWORD: 'postgres', POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withTmpFs({ '/var/lib/postgresql/data': 'rw' })
      .withExposedPorts(5432)
      // Over TCP: while the image initialises, the server listens on its socket only.
      .withHealthCheck({ test: ['CMD', 'pg_isready', '-h', '127.0.0.1', '-U', 'postgres'], interval: 500, timeout: 2_000, retries: 120 })
      .withWaitStrategy(Wait.forHealthCheck())
      .start(),
  ]);
  started.hookhubContainers = [nats, postgres];
  process.env.NATS_URL = `nats://${nats.getHost()}:${nats.getMappedPort(4222)}`;
  process.env.TEST_DATABASE_ADMIN_URL = `postgres://postgres@${postgres.getHost()}:${postgres.getMappedPort(5432)}/postgres`;
}

async function wantContainers(): Promise<boolean> {
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl && !process.env.TEST_DATABASE_ADMIN_URL)
    process.env.TEST_DATABASE_ADMIN_URL = Object.assign(new URL(databaseUrl), { pathname: '/postgres' }).toString();
  if (process.env.NATS_URL || process.env.TEST_DATABASE_ADMIN_URL) return false;
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return false;
  try {
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}
