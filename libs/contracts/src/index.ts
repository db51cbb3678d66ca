export * from './envelope';
export * from './thin-notification';
export * from './subjects';
export * from './catalogue/event-types';
export * from './catalogue/event-type-pattern';
export * from './catalogue/envelope-schema';
export * from './catalogue/event-validator';
