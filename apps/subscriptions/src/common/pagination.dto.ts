import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { toDecimalInteger } from '@hookhub/platform';

/** Cursor pagination of every list route: newest first, `next_cursor` leads to the next page. */
export class ListQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Transform(toDecimalInteger)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: '`next_cursor` of the previous page' })
  @IsOptional()
  @IsUUID('all', { message: 'cursor must be a next_cursor value from a previous page' })
  cursor?: string;
}
