import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { connect, JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import { ReadinessCheck, ReadinessRegistry } from '@hookhub/platform';
import { JETSTREAM_SETTINGS, JetstreamSettings } from './jetstream.config';

/**
 * The app's one NATS connection. It reconnects forever: a NATS restart must
 * pause the hub, never stop it. On shutdown it drains, so published messages
 * and acks in flight reach the server before the socket closes.
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
    this.connection = await connect({
      servers: this.settings.servers,
      name: this.settings.connectionName,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: true,
      pingInterval: 10_000,
    });
    this.jsClient = this.connection.jetstream();
    this.manager = await this.connection.jetstreamManager();
    void this.watchStatus(this.connection);
    this.logger.log({ servers: this.settings.servers }, 'connected to NATS');
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
