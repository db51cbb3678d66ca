import { ConfigService } from '@nestjs/config';
import { buildDispatcherApp } from './build-dispatcher-app';
import type { DispatcherConfig } from './dispatcher.config';

async function main(): Promise<void> {
  const app = await buildDispatcherApp();
  const config = app.get<ConfigService<DispatcherConfig, true>>(ConfigService);
  await app.listen(config.get('DISPATCHER_PORT', { infer: true }), '0.0.0.0');
}

void main();
