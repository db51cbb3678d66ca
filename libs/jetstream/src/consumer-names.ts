/** The durable consumer of the events stream: fan-out and first attempts (every dispatcher pod pulls from it). */
export const EVENTS_CONSUMER = 'dispatcher';

/** The durable consumer that works the retries stream (every dispatcher pod pulls from it). */
export const RETRIES_CONSUMER = 'retry';
