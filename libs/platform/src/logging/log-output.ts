import { hostname } from 'node:os';
import { destination, DestinationStream, LoggerOptions, stdTimeFunctions } from 'pino';
import type { PrettyOptions } from 'pino-pretty';
import { parseEnvBoolean } from '../config/env-decorators';
import { StartupError } from '../startup/startup-error';

/** Where and how an app writes its log lines (LOG_LEVEL, LOG_PRETTY, LOG_DESTINATION). */
export interface LogSettings {
  level: string;
  pretty: boolean;
  /** `stdout`, or a file the lines are appended to. */
  destination: string;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * The log settings read leniently from the raw environment, for the lines written before (or instead of) a
 * valid configuration: a configuration error is reported in the format the rest of the logs use.
 */
export function logSettingsFromEnv(env: Record<string, string | undefined>): LogSettings {
  const level = env.LOG_LEVEL && LEVELS.includes(env.LOG_LEVEL) ? env.LOG_LEVEL : 'info';
  return { level, pretty: parseEnvBoolean(env.LOG_PRETTY) ?? false, destination: env.LOG_DESTINATION || 'stdout' };
}

/**
 * The pino options of every line an app writes: its `service`, and ISO-8601 times (`"time":"2025-…Z"`),
 * which a reader and most log pipelines take without conversion, instead of epoch milliseconds.
 */
export function baseLoggerOptions(service: string, level: string): LoggerOptions {
  return { level, base: { pid: process.pid, hostname: hostname(), service }, timestamp: stdTimeFunctions.isoTime };
}

/**
 * JSON lines written synchronously (a line is out when the call returns, however the process ends), or
 * with LOG_PRETTY one readable line per entry, also synchronous and in this thread: no worker to lose the
 * last lines of a process that exits at once, as a failed start-up does.
 */
export function logStream(settings: LogSettings): DestinationStream {
  const file = settings.destination === 'stdout' ? undefined : settings.destination;
  if (!settings.pretty) return destination({ dest: file ?? 1, mkdir: true, sync: true });
  const options: PrettyOptions = {
    destination: file ?? 1,
    mkdir: true,
    sync: true,
    colorize: file ? false : undefined,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    // The message carries what these say (request lines read "GET /v1/tenants 200 4 ms").
    ignore: 'pid,hostname,service,context,req,res,responseTime',
    messageFormat: prettyMessage,
  };
  return loadPinoPretty()(options);
}

/**
 * "[subscriptions] JetstreamConnection: connected to NATS": the app's name first, since `npm run dev` shows the
 * three apps' lines as they come; a line that starts with the name already ("subscriptions listening on …") as is.
 */
function prettyMessage(log: Record<string, unknown>, messageKey: string): string {
  const message = String(log[messageKey]);
  const service = String(log.service ?? '');
  if (typeof log.context === 'string') return `[${service}] ${log.context}: ${message}`;
  return message.startsWith(`${service} `) ? message : `[${service}] ${message}`;
}

type PinoPretty = (options: PrettyOptions) => DestinationStream;

/** pino-pretty is a development dependency: production images leave it out, so it is loaded only when asked for. */
function loadPinoPretty(): PinoPretty {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on demand; see above
    return (require('pino-pretty') as { default: PinoPretty }).default;
  } catch (err) {
    throw new StartupError('LOG_PRETTY=true needs pino-pretty, a development dependency this installation lacks: unset LOG_PRETTY for JSON logs', {
      cause: err,
    });
  }
}
