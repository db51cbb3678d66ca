import { Injectable } from '@nestjs/common';

/** A dependency whose failure makes the app unready (NATS, PostgreSQL). */
export interface ReadinessCheck {
  readonly readinessName: string;
  checkReadiness(): Promise<void>;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, 'up' | string>;
}

/** Collects the readiness checks that modules register, so `/readyz` asks each dependency. */
@Injectable()
export class ReadinessRegistry {
  private readonly checks: ReadinessCheck[] = [];
  private shuttingDown = false;

  register(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  /** Called when shutdown begins so load balancers stop routing before connections close. */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  async report(): Promise<ReadinessReport> {
    const checks: Record<string, string> = {};
    if (this.shuttingDown) checks.shutdown = 'shutting down';
    await Promise.all(
      this.checks.map(async (c) => {
        try {
          await Promise.race([c.checkReadiness(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), 2_000).unref())]);
          checks[c.readinessName] = 'up';
        } catch (err) {
          checks[c.readinessName] = err instanceof Error ? err.message : String(err);
        }
      }),
    );
    return { ready: Object.values(checks).every((v) => v === 'up'), checks };
  }
}
