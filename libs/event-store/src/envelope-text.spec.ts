import { EventEnvelope, serializeEnvelope } from '@hookhub/contracts';
import { envelopeText } from './envelope-text';

const base: EventEnvelope = {
  id: 'evt-1',
  account_id: '3b5c0e3e-0000-4000-8000-000000000001',
  account_url: 'https://acme.example',
  created_at: '2026-01-01T00:00:00Z',
  type: 'ticket.updated',
  data: { changes: { subject: ['a', 'b'] } },
  actor_type: 'user',
  actor_id: 'u-1',
  actor_name: 'Ann',
  model_type: 'ticket',
  model_id: 't-1',
  model: { id: 't-1', subject: 'Refund' },
};

describe('envelopeText', () => {
  it('is serializeEnvelope, computed once per envelope object', () => {
    const e = { ...base };
    expect(envelopeText(e)).toBe(serializeEnvelope(base));
    const spy = jest.spyOn(JSON, 'stringify');
    expect(envelopeText(e)).toBe(serializeEnvelope(base));
    expect(spy).toHaveBeenCalledTimes(1); // the serializeEnvelope of the expectation, not envelopeText
    spy.mockRestore();
  });

  it('serialises a changed copy afresh', () => {
    const e = { ...base };
    envelopeText(e);
    const copy = { ...e, model: null };
    expect(envelopeText(copy)).toBe(serializeEnvelope(copy));
  });
});
