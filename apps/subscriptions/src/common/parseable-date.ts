import { registerDecorator, ValidationOptions } from 'class-validator';

/**
 * Goes with @IsISO8601: ISO-8601 allows forms such as week dates
 * (2020-W01-1) that `new Date()` cannot read, and an Invalid Date reaching
 * a query or `toISOString()` is a 500. Such values are refused here instead.
 */
export function IsParseableDate(options?: ValidationOptions): PropertyDecorator {
  return (object: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isParseableDate',
      target: object.constructor,
      propertyName: propertyName as string,
      options: { message: `${String(propertyName)} must be a date and time such as 2026-11-23T10:00:00Z`, ...options },
      validator: { validate: (value: unknown) => typeof value === 'string' && !Number.isNaN(Date.parse(value)) },
    });
}
