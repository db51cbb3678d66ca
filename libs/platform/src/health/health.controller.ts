import { BeforeApplicationShutdown, Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { PROBLEM_CONTENT_TYPE, problemType } from '../problems/problem';
import { ReadinessRegistry } from './readiness';

@ApiExcludeController()
@Controller()
export class HealthController implements BeforeApplicationShutdown {
  constructor(private readonly registry: ReadinessRegistry) {}

  /** Liveness: the process answers. Dependencies are deliberately not checked here. */
  @Get('healthz')
  @HttpCode(200)
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  async ready(@Res() res: Response): Promise<void> {
    const report = await this.registry.report();
    if (report.ready) {
      res.status(200).json({ status: 'ready', checks: report.checks });
      return;
    }
    res
      .status(503)
      .type(PROBLEM_CONTENT_TYPE)
      .send(
        JSON.stringify({
          type: problemType('not-ready'),
          title: 'Service unavailable',
          status: 503,
          detail: 'A dependency is not ready',
          checks: report.checks,
        }),
      );
  }

  beforeApplicationShutdown(): void {
    this.registry.markShuttingDown();
  }
}
