import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { connect, ErrorCode, JetStreamClient, JetStreamManager, NatsConnection, NatsError } from 'nats';
import { ReadinessCheck, ReadinessRegistry, StartupError } from '@hookhub/platform';
import { describeCredentials, JETSTREAM_SETTINGS, JetstreamSettings } from './jetstream.config';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The app's one NATS connection. Once up it reconnects forever: a NATS restart
 * must pause the hub, never stop it. The first connection is different: a
 * server that stays unreachable for STARTUP_WAIT_MS, refuses the credentials
 * or has no JetStream stops the start-up with a StartupError saying so. On
 * shutdown it drains, so published messages and acks in flight reach the
 * server before the socket closes.
 */
@Injectable()
export class JetstreamConnection implements OnModuleInit, OnApplicationShutdown, ReadinessCheck {
  readonly readinessName = 'nats';
  private readonly logger = new Logger(JetstreamConnection.name);
  private connection?: NatsConnection;
  private jsClient?: JetStreamClient;
  private manager?: JetStreamManager;
  /** False between a `disconnect` and the next `reconnect`. */
  private up = true;
  private upWaiters: Array<() => void> = [];

  constructor(
    @Inject(JETSTREAM_SETTINGS) private readonly settings: JetstreamSettings,
    readiness: ReadinessRegistry,
  ) {
    readiness.register(this);
  }

  async onModuleInit(): Promise<void> {
    const connection = await this.connectFirst();
    this.connection = connection;
    this.jsClient = connection.jetstream();
    try {
      this.manager = await connection.jetstreamManager();
    } catch (err) {
      await connection.close().catch(() => undefined);
      if (err instanceof NatsError && err.code === ErrorCode.JetStreamNotEnabled) {
        throw new StartupError(
          `NATS at ${this.where()} has JetStream disabled: start nats-server with -js (or a jetstream {} block in its configuration), or point NATS_URL at one that has it`,
          { cause: err },
        );
      }
      throw err;
    }
    void this.watchStatus(connection);
    this.logger.log({ servers: this.settings.servers }, 'connected to NATS');
  }

  /**
   * Tries the servers until one answers, for at most STARTUP_WAIT_MS (containers may start before NATS).
   * A server that answers and refuses the connection is not retried: waiting would not change its answer.
   */
  private async connectFirst(): Promise<NatsConnection> {
    const deadline = Date.now() + this.settings.startupWaitMs;
    for (;;) {
      const left = deadline - Date.now();
      try {
        return await connect({
          servers: this.settings.servers,
          name: this.settings.connectionName,
          ...this.settings.credentials,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
          pingInterval: 10_000,
          // No stack captured per request for a timeout's sake (two Error objects per publish, 2 % of an API request's CPU).
          noAsyncTraces: true,
          timeout: Math.min(Math.max(left, 500), 5_000),
        });
      } catch (err) {
        const refusal = this.refusal(err);
        if (refusal) throw new StartupError(refusal, { cause: err });
        if (Date.now() + 250 >= deadline) {
          const waited = this.settings.startupWaitMs / 1000;
          throw new StartupError(
            `NATS is not reachable at ${this.where()} (${describe(err)} for ${waited} s): start nats-server with -js, or set NATS_URL to where it runs (STARTUP_WAIT_MS sets the wait)`,
            { cause: err },
          );
        }
        await sleep(250);
      }
    }
  }

  /** The message for a server that answered and said no (credentials, TLS), or undefined for one that did not answer. */
  private refusal(err: unknown): string | undefined {
    if (!(err instanceof NatsError)) return undefined;
    const credentials = describeCredentials(this.settings.credentials);
    // The server's own words, without the quotes of its -ERR line: 'Authorization Violation'.
    const said = err.message.replace(/^'(.*)'$/, '$1');
    switch (err.code) {
      case ErrorCode.AuthorizationViolation:
      case ErrorCode.BadAuthentication:
      case ErrorCode.BadCreds:
      case ErrorCode.AuthenticationExpired:
      case ErrorCode.AccountExpired:
        return `NATS at ${this.where()} refused the connection with ${credentials} (${said}): set NATS_USER and NATS_PASSWORD, NATS_TOKEN or NATS_CREDS_FILE to what the server expects`;
      case ErrorCode.Tls:
        return `NATS at ${this.where()} and this app disagree on TLS (${said}): use a tls:// URL and NATS_TLS_CA_FILE (NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE if it verifies clients), or turn TLS off on the server`;
      default:
        return undefined;
    }
  }

  private where(): string {
    return this.settings.servers.join(',');
  }

  get nc(): NatsConnection {
    if (!this.connection) throw new Error('NATS is not connected yet');
    return this.connection;
  }

  get js(): JetStreamClient {
    if (!this.jsClient) throw new Error('NATS is not connected yet');
    return this.jsClient;
  }

  get jsm(): JetStreamManager {
    if (!this.manager) throw new Error('NATS is not connected yet');
    return this.manager;
  }

  /** Resolves once the connection is up (at once if it is), or after `timeoutMs` if it stays down. */
  async whenConnected(timeoutMs: number): Promise<void> {
    if (this.up || timeoutMs <= 0) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.upWaiters = this.upWaiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.upWaiters.push(done);
    });
  }

  async checkReadiness(): Promise<void> {
    if (!this.connection || this.connection.isClosed()) throw new Error('not connected');
    await this.connection.flush();
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.connection || this.connection.isClosed()) return;
    try {
      await this.connection.drain();
    } catch (err) {
      this.logger.warn({ err }, 'NATS drain failed');
    }
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') this.up = false;
      if (s.type === 'reconnect') {
        this.up = true;
        for (const wake of this.upWaiters.splice(0)) wake();
      }
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') {
        this.logger.warn({ type: s.type, data: String(s.data) }, 'NATS connection status');
      }
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof NatsError && err.code === ErrorCode.ConnectionRefused) return 'connection refused';
  if (err instanceof NatsError && err.code === ErrorCode.ConnectionTimeout) return 'no answer';
  return err instanceof Error ? err.message : String(err);
}
