import { Inject, Injectable } from '@nestjs/common';
import {
  GupshupAdapter,
  MailgunAdapter,
  MessagebirdAdapter,
  MetaWhatsappAdapter,
  PlivoAdapter,
  ProviderAdapter,
  ProviderName,
  PROVIDER_NAMES,
  SendgridAdapter,
  SendgridInboundAdapter,
  SesAdapter,
  TwilioAdapter,
  VonageAdapter,
} from '@hookhub/providers';
import { INGEST_SETTINGS, IngestSettings } from './ingest.settings';

/** The one adapter of each provider. */
@Injectable()
export class ProviderRegistry {
  private readonly adapters: ReadonlyMap<ProviderName, ProviderAdapter>;

  constructor(@Inject(INGEST_SETTINGS) settings: IngestSettings) {
    const all: ProviderAdapter[] = [
      new SendgridAdapter(),
      new SendgridInboundAdapter(),
      new MailgunAdapter(),
      new TwilioAdapter('twilio_sms'),
      new TwilioAdapter('twilio_whatsapp'),
      new MetaWhatsappAdapter(),
      new MessagebirdAdapter(),
      new SesAdapter({ certificateHost: settings.snsHost, allowHttpCertificates: settings.snsAllowHttp }),
      new GupshupAdapter(),
      new VonageAdapter(),
      new PlivoAdapter(),
    ];
    this.adapters = new Map(all.map((a) => [a.provider, a]));
    const missing = PROVIDER_NAMES.filter((p) => !this.adapters.has(p));
    if (missing.length > 0) throw new Error(`no adapter for ${missing.join(', ')}`);
  }

  static isProvider(name: string): name is ProviderName {
    return (PROVIDER_NAMES as readonly string[]).includes(name);
  }

  get(provider: ProviderName): ProviderAdapter {
    return this.adapters.get(provider)!;
  }
}
