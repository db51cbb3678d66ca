import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { RetentionService } from './retention.service';
import { STORAGE_SETTINGS, StorageSettings } from './storage.settings';

/** The first run waits this long after start-up (or the interval, if shorter): a starting pod has other work first. */
const FIRST_RUN_DELAY_MS = 60_000;

/** Runs retention on an interval in the pods that do it (the dispatchers); one run at a time across pods. */
@Injectable()
export class RetentionRunner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RetentionRunner.name);
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;

  constructor(
    private readonly retention: RetentionService,
    @Inject(STORAGE_SETTINGS) private readonly settings: StorageSettings,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(Math.min(FIRST_RUN_DELAY_MS, this.settings.intervalMs));
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.retention
        .run()
        .catch((err: unknown) => this.logger.error({ err: err instanceof Error ? err.message : err }, 'retention run failed; the next run goes on'))
        .finally(() => {
          this.running = null;
          this.schedule(this.settings.intervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }
}
