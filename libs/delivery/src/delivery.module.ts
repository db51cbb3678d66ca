import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EventStoreModule } from '@hookhub/event-store';
import { DeliveryExecutor } from './delivery-executor';
import { DeliveryMetrics } from './delivery-metrics';
import { DELIVERY_SETTINGS, deliverySettings } from './delivery.settings';
import { DisableNotifier } from './disable-notifier';
import { DispatchPipeline } from './dispatch-pipeline';
import { FanOutService } from './fan-out.service';
import { ResourceOrder } from './resource-order';
import { RetryPipeline } from './retry-pipeline';
import { RetryPlanner } from './retry-planner';
import { RetryScheduler } from './retry-scheduler';
import { SenderPermissions } from './sender-permissions';
import { WebhookRequestBuilder } from './webhook-request';

@Module({
  imports: [EventStoreModule],
  providers: [
    { provide: DELIVERY_SETTINGS, inject: [ConfigService], useFactory: deliverySettings },
    DeliveryMetrics,
    WebhookRequestBuilder,
    SenderPermissions,
    DisableNotifier,
    RetryPlanner,
    DeliveryExecutor,
    FanOutService,
    DispatchPipeline,
    RetryPipeline,
    RetryScheduler,
    ResourceOrder,
  ],
  exports: [DELIVERY_SETTINGS, DeliveryExecutor, DispatchPipeline, FanOutService, RetryPipeline, RetryScheduler],
})
export class DeliveryModule {}
