import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ProblemFieldError, Problems } from './problem';

function flatten(errors: ValidationError[], parent = ''): ProblemFieldError[] {
  return errors.flatMap((e) => {
    const pointer = `${parent}/${e.property}`;
    const own = Object.values(e.constraints ?? {}).map((detail) => ({ pointer: `#${pointer}`, detail }));
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
