import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EventCatalogueModule } from '@hookhub/event-catalogue';
import { EventStoreModule } from '@hookhub/event-store';
import { DeliveryOutcomeRepository, PersistenceModule } from '@hookhub/persistence';
import { MetricsModule } from '@hookhub/platform';
import { DeliveryAdmission } from './admission';
import { AttemptLog } from './attempt-log';
import { AttemptSender } from './attempt-sender';
import { AttemptSettlement } from './attempt-settlement';
import { DeliveryMetrics } from './delivery-metrics';
import { DELIVERY_SETTINGS, DeliverySettings, deliverySettings } from './delivery.settings';
import { DisableNotifier } from './disable-notifier';
import { DispatchPipeline } from './dispatch-pipeline';
import { EventsAudit } from './events-audit';
import { FanOutService } from './fan-out.service';
import { OverdueSweep } from './overdue-sweep';
import { RateLine } from './rate-line';
import { ResourceOrder } from './resource-order';
import { RetryPipeline } from './retry-pipeline';
import { RetryPlanner } from './retry-planner';
import { RetryScheduler } from './retry-scheduler';
import { SenderPermissions } from './sender-permissions';
import { SubscriptionLoad } from './subscription-load';
import { WebhookClientModule } from './webhook-client.module';

/** Attempt records are written in batches of up to this many, gathered for up to `lingerMs`. */
const ATTEMPT_LOG = { maxBatch: 500, lingerMs: 10, retryForMs: 60_000, maxConcurrent: 2 };

/** The dispatcher's delivery core: the pipelines of events and retries and their stages. */
@Module({
  imports: [PersistenceModule, MetricsModule, EventStoreModule, EventCatalogueModule, WebhookClientModule],
  providers: [
    { provide: DELIVERY_SETTINGS, inject: [ConfigService], useFactory: deliverySettings },
    {
      provide: AttemptLog,
      inject: [DeliveryOutcomeRepository, DELIVERY_SETTINGS, DisableNotifier],
      useFactory: (repo: DeliveryOutcomeRepository, settings: DeliverySettings, notifier: DisableNotifier) =>
        new AttemptLog(
          repo,
          { ...ATTEMPT_LOG, disableAfter: settings.disableAfterFailures, disableAfterFailingMs: settings.disableAfterFailingMs },
          (disabled) => notifier.notify(disabled),
        ),
    },
    DeliveryMetrics,
    SenderPermissions,
    DisableNotifier,
    SubscriptionLoad,
    DeliveryAdmission,
    AttemptSender,
    AttemptSettlement,
    RetryPlanner,
    FanOutService,
    DispatchPipeline,
    RetryPipeline,
    RetryScheduler,
    OverdueSweep,
    EventsAudit,
    ResourceOrder,
    RateLine,
  ],
  exports: [DispatchPipeline, RetryPipeline, RetryScheduler, RateLine, EventsAudit],
})
export class DeliveryModule {}
