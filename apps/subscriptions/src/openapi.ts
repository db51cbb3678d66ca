import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** Serves the OpenAPI document generated from the controllers and DTOs at /docs and /docs-json. */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Hookhub API')
    .setDescription('Admin API for tenants, keys and webhook subscriptions; event publishing; resource snapshots.')
    .setVersion('1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Tenant API key (hh_…)' }, 'api-key')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Bootstrap admin token' }, 'admin-token')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config), { jsonDocumentUrl: 'docs-json' });
}
