import { ConfigService } from '@nestjs/config';
import { createHttpApp } from '@hookhub/platform';
import { DispatcherAppModule } from './dispatcher-app.module';
import type { DispatcherConfig } from './dispatcher.config';

async function main(): Promise<void> {
  process.env.HOOKHUB_SERVICE ??= 'dispatcher';
  const app = await createHttpApp(DispatcherAppModule.forRoot());
  const config = app.get<ConfigService<DispatcherConfig, true>>(ConfigService);
  await app.listen(config.get('DISPATCHER_PORT', { infer: true }), '0.0.0.0');
}

void main();
