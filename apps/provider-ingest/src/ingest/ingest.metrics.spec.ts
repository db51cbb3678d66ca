import { MetricsRegistry } from '@hookhub/platform';
import { PROVIDER_NAMES } from '@hookhub/providers';
import { IngestMetrics } from './ingest.metrics';

describe('IngestMetrics', () => {
  it('labels callbacks by provider, and every unknown provider name from the URL as "other"', async () => {
    const registry = new MetricsRegistry();
    const metrics = new IngestMetrics(registry);
    metrics.count('twilio_sms', 'unauthorized');
    for (const name of ['abc', 'sendgridx', 'twilio', '__proto__', 'constructor', 'SENDGRID', 'x'.repeat(40), 'é']) metrics.count(name, 'not_found');
    const values = (await registry.getSingleMetric('hookhub_provider_callbacks_total')!.get()).values;
    const providers = new Set(values.map((v) => v.labels.provider));
    expect([...providers].sort()).toEqual(['other', 'twilio_sms']);
    expect(values.find((v) => v.labels.provider === 'other')).toMatchObject({ labels: { outcome: 'not_found' }, value: 8 });
    for (const p of PROVIDER_NAMES) metrics.count(p, 'accepted');
    const after = (await registry.getSingleMetric('hookhub_provider_callbacks_total')!.get()).values;
    expect(new Set(after.map((v) => v.labels.provider)).size).toBe(PROVIDER_NAMES.length + 1);
  });
});
