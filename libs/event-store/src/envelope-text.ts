import { EventEnvelope, serializeEnvelope } from '@hookhub/contracts';

const texts = new WeakMap<EventEnvelope, string>();

/**
 * `serializeEnvelope(e)`, computed once per envelope object for everyone who
 * needs it: the recorder (the event log row, whose model the snapshot also
 * takes) and the full-format payload. Envelopes are never mutated once
 * parsed (a changed copy is a new object), so the text cannot go stale.
 */
export function envelopeText(e: EventEnvelope): string {
  let text = texts.get(e);
  if (text === undefined) {
    text = serializeEnvelope(e);
    texts.set(e, text);
  }
  return text;
}
