import { BeforeApplicationShutdown, Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Problems } from '../problems/problem';
import { sendProblem } from '../problems/problem-response';
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
    // Written here rather than thrown: the filter would log every failed probe as a failed request.
    sendProblem(res, Problems.unavailable('A dependency is not ready', { checks: report.checks }).document());
  }

  beforeApplicationShutdown(): void {
    this.registry.markShuttingDown();
  }
}
