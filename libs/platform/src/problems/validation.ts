import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ProblemFieldError, Problems } from './problem';

/**
 * One message per field: a missing field is "required", otherwise the first
 * rule the field breaks in the DTO's order. class-validator lists constraints
 * bottom-up (the last decorator first), and DTOs declare the type check on
 * top, so the last constraint is the one that says what the value should be;
 * the others would contradict it ("must be an array", "at least 1 element").
 */
function flatten(errors: ValidationError[], parent = ''): ProblemFieldError[] {
  return errors.flatMap((e) => {
    const pointer = `${parent}/${e.property}`;
    const details = Object.values(e.constraints ?? {});
    const own =
      details.length === 0
        ? []
        : [
            {
              pointer: `#${pointer}`,
              detail: e.value === undefined && !('whitelistValidation' in (e.constraints ?? {})) ? `${e.property} is required` : details[details.length - 1],
            },
          ];
    return [...own, ...flatten(e.children ?? [], pointer)];
  });
}

/**
 * The one validation pipe of every app: unknown fields are rejected, values
 * are transformed into DTO instances, and failures become a problem document
 * listing each field by JSON pointer.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    exceptionFactory: (errors) => {
      const fields = flatten(errors);
      return Problems.validation(fields.map((f) => `${f.pointer.slice(2) || 'body'}: ${f.detail}`).join('; '), fields);
    },
  });
}
