import { Injectable, PipeTransform } from '@nestjs/common';
import { Problems } from '@hookhub/platform';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A resource id in a path: anything that is not a UUID cannot exist, so it is a 404, not a 400. */
@Injectable()
export class ParseResourceIdPipe implements PipeTransform<string, string> {
  constructor(private readonly what: string) {}

  transform(value: string): string {
    if (!UUID.test(value)) throw Problems.notFound(this.what);
    return value.toLowerCase();
  }
}
