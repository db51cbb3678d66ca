// What delivery's fan-out uses: the module, the recorder (also driven by the end-to-end tests) and the event key.
export { EventStoreModule } from './event-store.module';
export { eventKey, EventRecorder, type RecordResult } from './event-recorder';
// The stored text of an event, for delivery's payloads.
export { envelopeText } from './envelope-text';
