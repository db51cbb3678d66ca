import { ConfigurableModuleBuilder, Inject, Injectable, Module } from '@nestjs/common';
import { HookhubClient, type CallOptions, type HookhubClientOptions, type PublishEventInput, type PublishReceipt } from '../client';

/** The options of `HookhubModule.forRoot`, or what `forRootAsync`'s `useFactory` returns: those of `HookhubClient`. */
export type HookhubModuleOptions = HookhubClientOptions;

const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } = new ConfigurableModuleBuilder<HookhubModuleOptions>()
  .setClassMethodName('forRoot')
  // `isGlobal: true` makes the publisher injectable everywhere without importing the module again.
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

/** The token of the module's options, for providers of your own that need them. */
export const HOOKHUB_MODULE_OPTIONS = MODULE_OPTIONS_TOKEN;

/** Publishes domain events to the hub through its API: `await this.hookhub.publish({ type, model_id, model })`. */
@Injectable()
export class HookhubPublisher {
  constructor(@Inject(HookhubClient) readonly client: HookhubClient) {}

  /** Resolves once the hub stored the event; retried with the same event id after network errors and 5xx answers. */
  publish(event: PublishEventInput, options?: CallOptions): Promise<PublishReceipt> {
    return this.client.publish(event, options);
  }
}

/**
 * `HookhubModule.forRoot({ baseUrl, apiKey })`, or `forRootAsync({ imports,
 * inject, useFactory })` to read them from configuration, provides an
 * injectable `HookhubPublisher` and the `HookhubClient` behind it.
 */
@Module({
  providers: [
    { provide: HookhubClient, useFactory: (options: HookhubModuleOptions) => new HookhubClient(options), inject: [MODULE_OPTIONS_TOKEN] },
    HookhubPublisher,
  ],
  exports: [HookhubClient, HookhubPublisher],
})
export class HookhubModule extends ConfigurableModuleClass {}
