import { ApiProperty } from '@nestjs/swagger';
import { ApiKeyView } from '../tenants/tenant.dto';

export class ApiKeyPage {
  @ApiProperty({ type: [ApiKeyView] }) items: ApiKeyView[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `cursor` for the next page; null on the last page' }) next_cursor: string | null;
}
