import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import pino, { Logger as PinoLogger } from 'pino';
import { RunningTracing, startTracing, tracingDestination, tracingWanted } from '@hookhub/tracing';
import type { BaseConfig } from '../config/base-config';
import { ConfigurationError, validateConfig } from '../config/validate-config';
import { baseLoggerOptions, LogSettings, logSettingsFromEnv, logStream } from '../logging/log-output';
import { StartupError } from './startup-error';

/** What main.ts tells the launcher about its app. */
export interface AppLaunch<C extends BaseConfig, A extends INestApplication> {
  /** The app's name, as its log lines' `service` field has it. */
  service: string;
  /** The app's configuration class: validated before anything starts. */
  config: new () => C;
  /** The variable that sets the app's port, named when the port is taken. */
  portVariable: keyof C & string;
  /** Builds the app, not yet listening. */
  build: () => Promise<A>;
  /** The rest of the ready line after the app's name, given the URL it listens on. */
  ready: (url: string, app: A) => string;
}

/** Exit code of every failed start-up: the line before it says why. */
export const STARTUP_FAILED = 1;

/** How long stopping waits for the last spans to reach the collector: a collector that is away must not hold the exit. */
const TRACE_FLUSH_MS = 3_000;

/**
 * Runs an app as a process: validates its configuration, builds it, listens on HOST and the app's port and
 * says so in one line, or ends within STARTUP_WAIT_MS with one line saying what is wrong and exit code 1
 * (a bad configuration: one line per bad variable). SIGINT and SIGTERM close the app, which drains its
 * work, and end the process with code 0 after "<app> stopped cleanly".
 */
export async function runApp<C extends BaseConfig, A extends INestApplication>(launch: AppLaunch<C, A>): Promise<void> {
  const { service } = launch;
  const env = process.env;
  let log = startupLogger(service, logSettingsFromEnv(env));
  const fail = (lines: string[], err?: unknown): never => {
    for (const line of lines) log.fatal(line);
    if (err !== undefined) log.trace({ err }, 'start-up failure');
    process.exit(STARTUP_FAILED);
  };

  let config: C;
  try {
    config = validateConfig(launch.config, env);
  } catch (err) {
    if (err instanceof ConfigurationError) return fail(err.problems.map((p) => `invalid configuration: ${p}`));
    return fail([`${service} could not read its configuration: ${describe(err)}`], err);
  }
  try {
    log = startupLogger(service, { level: config.LOG_LEVEL, pretty: config.LOG_PRETTY, destination: config.LOG_DESTINATION });
  } catch (err) {
    return fail([describe(err)], err);
  }

  // Before the app is built: its modules read tracingOn() as they start (the HTTP server spans, for one).
  let tracing: RunningTracing | undefined;
  if (tracingWanted(config)) {
    const serviceName = config.OTEL_SERVICE_NAME ?? `hookhub-${service}`;
    try {
      tracing = await startTracing({ serviceName });
    } catch (err) {
      return fail([`${service} could not start tracing: ${describe(err)}`], err);
    }
    log.info(`tracing on: spans of ${serviceName} go to ${tracingDestination(config)}`);
  }

  /** The app once it listens; a signal before that ends the process at once. */
  const running: { app?: A } = {};
  let stopping = false;
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    // A terminal's Ctrl-C reaches every process of the group, and `concurrently` or `node --watch` forward it again.
    if (stopping) return;
    stopping = true;
    const app = running.app;
    if (!app) {
      log.info(`${service} stopped during start-up (${signal})`);
      process.exit(0);
    }
    log.info(`${service} stopping (${signal})`);
    const bound = config.SHUTDOWN_GRACE_MS + 10_000;
    setTimeout(() => {
      log.error(`${service} did not stop within ${bound} ms: exiting without waiting for the rest`);
      process.exit(1);
    }, bound).unref();
    try {
      await app.close();
    } catch (err) {
      log.error({ err }, `${service} stopped with an error: ${describe(err)}`);
      process.exit(1);
    }
    if (tracing) await flushTraces(tracing, log);
    log.info(`${service} stopped cleanly`);
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, (s: NodeJS.Signals) => void stop(s));

  try {
    const app = await launch.build();
    await app.listen(Number(config[launch.portVariable]), config.HOST);
    running.app = app;
  } catch (err) {
    if (stopping) return;
    return fail([failureLine(err, service, config, launch.portVariable)], err);
  }
  const url = urlOf(running.app, config.HOST);
  log.info(`${service} ${launch.ready(url, running.app)} (ready ${process.uptime().toFixed(1)} s after start)`);
}

/** Exports the spans still buffered (the last attempts'), for at most TRACE_FLUSH_MS. */
async function flushTraces(tracing: RunningTracing, log: PinoLogger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), TRACE_FLUSH_MS)));
  const outcome = await Promise.race([
    tracing.shutdown().then(
      () => 'done' as const,
      () => 'failed' as const,
    ),
    late,
  ]);
  clearTimeout(timer);
  if (outcome !== 'done')
    log.warn(`the last spans were not exported (${outcome === 'late' ? `collector did not answer within ${TRACE_FLUSH_MS} ms` : 'export failed'})`);
}

function startupLogger(service: string, settings: LogSettings): PinoLogger {
  return pino(baseLoggerOptions(service, settings.level), logStream(settings));
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The one line a failed start-up ends with. */
function failureLine<C extends BaseConfig>(err: unknown, service: string, config: C, portVariable: string): string {
  if (err instanceof StartupError) return err.message;
  if (err instanceof ConfigurationError) return `invalid configuration: ${err.problems.join('; ')}`;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const where = `${config.HOST}:${String(config[portVariable as keyof C])}`;
  if (code === 'EADDRINUSE') return `${service} cannot listen on ${where}: the port is in use (another copy still running?); stop it or set ${portVariable}`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
    return `${service} cannot listen on ${where}: HOST is not an address of this machine; set HOST to 127.0.0.1, 0.0.0.0 or one of its addresses`;
  if (code === 'EACCES')
    return `${service} cannot listen on ${where}: permission denied (ports below 1024 need privileges); set ${portVariable} to 1024 or above`;
  return `${service} failed to start: ${describe(err)} (LOG_LEVEL=trace shows the stack trace)`;
}

function urlOf(app: INestApplication, host: string): string {
  const address = (app.getHttpServer() as { address(): AddressInfo | string | null }).address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
