import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse, YAMLSeq } from 'yaml';
import { NATS_IMAGE, POSTGRES_IMAGE } from '../support/containers';

/**
 * No Docker engine runs where these tests run, so the compose files are checked as files: against the
 * Compose specification's JSON schema (as dclint ships it), by dclint's own rules (errors only), and for
 * what the README promises of them.
 */

const ROOT = join(__dirname, '..', '..');
const RESET = Symbol('!reset');
/** dclint's files, found by its package.json (its exports name no others). */
const DCLINT = join(require.resolve('dclint/package.json'), '..');

interface Healthcheck {
  test: string[];
}
interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[] | typeof RESET;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: Healthcheck;
  network_mode?: string;
  profiles?: string[];
}
interface ComposeFile {
  services: Record<string, Service>;
}

/** A compose file as compose reads it: merge keys resolved, `!reset` kept as a marker. */
function load(file: string): ComposeFile {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return parse(text, {
    merge: true,
    customTags: [{ tag: '!reset', collection: 'seq', resolve: () => Object.assign(new YAMLSeq(), { toJSON: () => RESET }) }],
  }) as ComposeFile;
}

/** The same, as plain JSON for the schema (a `!reset` value validates as its empty collection). */
function loadForSchema(file: string): unknown {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return parse(text, { merge: true, customTags: [{ tag: '!reset', collection: 'seq', resolve: () => new YAMLSeq() }] });
}

/** Compose's merge of an override onto a file, for the keys these files use. */
function merge(base: ComposeFile, override: ComposeFile): ComposeFile {
  const services: Record<string, Service> = structuredClone(base.services);
  for (const [name, extra] of Object.entries(override.services)) {
    const s = (services[name] ??= {});
    for (const [key, value] of Object.entries(extra) as Array<[keyof Service, unknown]>) {
      if (value === RESET) delete s[key];
      else if (key === 'environment') s.environment = { ...s.environment, ...(value as Record<string, string>) };
      else if (key === 'ports') s.ports = [...((s.ports as string[]) ?? []), ...(value as string[])];
      else (s as Record<string, unknown>)[key] = value;
    }
  }
  return { services };
}

const APPS: Record<string, { port: number; variable: string }> = {
  subscriptions: { port: 3000, variable: 'SUBSCRIPTIONS_PORT' },
  dispatcher: { port: 3001, variable: 'DISPATCHER_PORT' },
  'provider-ingest': { port: 3002, variable: 'PROVIDER_INGEST_PORT' },
};

const base = load('docker-compose.yml');
const dev = merge(base, load('docker-compose.dev.yml'));
const published = (s: Service): string[] => (Array.isArray(s.ports) ? s.ports : []);
const natsHasAuth = (s: Service): boolean => (s.command ?? []).some((arg) => ['--user', '--auth', '-c', '--config'].includes(arg));

describe('compose files', () => {
  it.each(['docker-compose.yml', 'docker-compose.dev.yml'])('%s is valid against the Compose specification schema', (file) => {
    // Draft 07, Ajv's default; its `$schema` spells the meta-schema's URL in a way Ajv does not know.
    const { $schema: _draft, ...schema } = JSON.parse(readFileSync(join(DCLINT, 'schemas', 'compose.schema.json'), 'utf8')) as { $schema: string };
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    expect(validate(loadForSchema(file)) ? [] : validate.errors).toEqual([]);
  });

  it('pass dclint without errors', () => {
    const report = execFileSync(process.execPath, [join(DCLINT, 'bin', 'dclint.cjs'), 'docker-compose.yml', 'docker-compose.dev.yml', '-q', '-f', 'json'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const errors = (JSON.parse(report) as Array<{ filePath: string; messages: Array<{ type: string; message: string }> }>).flatMap((f) =>
      f.messages.filter((m) => m.type === 'error').map((m) => `${f.filePath}: ${m.message}`),
    );
    expect(errors).toEqual([]);
  });

  describe.each([
    ['docker-compose.yml', base],
    ['docker-compose.yml + docker-compose.dev.yml', dev],
  ])('%s', (_name, compose) => {
    const services = Object.entries(compose.services);

    it('gives every service a health check', () => {
      expect(services.filter(([, s]) => !s.healthcheck?.test?.length).map(([n]) => n)).toEqual([]);
    });

    it('checks each app on its own /readyz with node (the image has no curl), on the port it listens on', () => {
      for (const [name, { port, variable }] of Object.entries(APPS)) {
        const s = compose.services[name];
        expect(s.healthcheck?.test).toEqual([
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${port}/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
        ]);
        expect(Number(s.environment?.[variable] ?? port)).toBe(port);
      }
    });

    it('starts the apps once NATS and PostgreSQL are healthy; every dependency waits for health', () => {
      for (const name of Object.keys(APPS))
        expect(compose.services[name].depends_on).toEqual({ nats: { condition: 'service_healthy' }, postgres: { condition: 'service_healthy' } });
      for (const [name, s] of services)
        for (const [dep, d] of Object.entries(s.depends_on ?? {}))
          expect({ name, dep, condition: d.condition }).toEqual({ name, dep, condition: 'service_healthy' });
    });

    it('runs the three apps from one image, each with its own entry', () => {
      const images = new Set(Object.keys(APPS).map((name) => compose.services[name].image));
      expect([...images]).toEqual(['hookhub:local']);
      for (const name of Object.keys(APPS)) expect(compose.services[name].command).toEqual(['node', `dist/apps/${name}/main.js`]);
    });

    it('runs NATS with JetStream and its monitoring port, checked on /healthz; published only with authentication', () => {
      const nats = compose.services.nats;
      expect(nats.command).toEqual(expect.arrayContaining(['-js', '-m', '8222']));
      expect(nats.healthcheck?.test.join(' ')).toContain('http://127.0.0.1:8222/healthz');
      if (published(nats).length > 0) {
        expect(natsHasAuth(nats)).toBe(true);
        expect(published(nats).every((p) => p.startsWith('127.0.0.1:'))).toBe(true);
        const user = nats.command![nats.command!.indexOf('--user') + 1];
        const password = nats.command![nats.command!.indexOf('--pass') + 1];
        for (const name of Object.keys(APPS)) expect(compose.services[name].environment).toMatchObject({ NATS_USER: user, NATS_PASSWORD: password });
      }
    });

    it('uses the NATS and PostgreSQL images the test support starts as containers', () => {
      expect([compose.services.nats.image, compose.services.postgres.image]).toEqual([NATS_IMAGE, POSTGRES_IMAGE]);
      expect(compose.services.postgres.healthcheck?.test.slice(0, 2)).toEqual(['CMD', 'pg_isready']);
    });

    it("makes the dispatchers' metrics reachable: Prometheus scraping every replica, or the port on the host", () => {
      const prometheus = compose.services.prometheus;
      expect(prometheus.profiles).toEqual(['metrics']);
      const config = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
      expect(config).toMatch(/dns_sd_configs:\s*\n\s*- names: \[dispatcher\]\s*\n\s*type: A\s*\n\s*port: 3001/);
    });
  });

  it('keeps PostgreSQL and NATS unpublished in production; the dispatcher without a fixed host port (it scales)', () => {
    expect(published(base.services.nats)).toEqual([]);
    expect(published(base.services.postgres)).toEqual([]);
    expect(published(base.services.dispatcher)).toEqual([]);
  });

  it("development: the walk-through works verbatim (apps on the host network at 127.0.0.1:3000-3002, .env.development's token, loopback targets)", () => {
    const envDevelopment = Object.fromEntries(
      readFileSync(join(ROOT, '.env.development'), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`ADMIN=${envDevelopment.ADMIN_TOKEN}`);
    expect(readme).toContain('--env-file .env.development');
    for (const name of Object.keys(APPS)) {
      const s = dev.services[name];
      expect({ name, network: s.network_mode, ports: published(s) }).toEqual({ name, network: 'host', ports: [] });
      expect(s.environment).toMatchObject({ HOST: '127.0.0.1', ALLOW_INSECURE_WEBHOOK_TARGETS: 'true' });
      // Interpolated from .env.development with --env-file.
      expect(s.environment?.ADMIN_TOKEN).toBe('${ADMIN_TOKEN:?set ADMIN_TOKEN (at least 16 characters)}');
    }
    expect(envDevelopment.ADMIN_TOKEN).toBeDefined();
    expect(envDevelopment.SECRETS_ENCRYPTION_KEY).toBeDefined();
    // PostgreSQL's password is given on the README's command line and matches the apps' URL.
    expect(readme).toContain('POSTGRES_PASSWORD=hookhub docker compose --env-file .env.development');
    expect(dev.services.subscriptions.environment?.DATABASE_URL).toBe('postgres://hookhub:hookhub@127.0.0.1:5432/hookhub');
    expect(published(dev.services.postgres)).toEqual(['127.0.0.1:5432:5432']);
  });

  it('the Dockerfile builds the three apps into one image', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(dockerfile).toContain('RUN npm run build');
    for (const name of Object.keys(APPS)) expect(pkg.scripts.build).toContain(`nest build ${name}`);
    expect(dockerfile).not.toMatch(/ARG APP/);
  });
});
