import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMinSize, ArrayUnique, IsArray, IsIn, IsOptional, IsString, IsUrl, Length, MaxLength } from 'class-validator';
import { API_KEY_ROLES, ApiKeyEntity, ApiKeyRole, TenantEntity } from '@hookhub/persistence';

export class CreateTenantDto {
  @ApiProperty({ example: 'Acme Support' })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiPropertyOptional({ description: 'Sent as `account_url` in every event', example: 'https://acme.example.com' })
  @IsOptional()
  @IsUrl({ protocols: ['https', 'http'], require_protocol: true })
  @MaxLength(2048)
  account_url?: string;
}

export class TenantView {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() account_url: string;
  @ApiProperty() created_at: string;

  static of(t: TenantEntity): TenantView {
    return {
      id: t.id,
      name: t.name,
      account_url: t.accountUrl,
      created_at: t.createdAt.toISOString(),
    };
  }
}

export class TenantPage {
  @ApiProperty({ type: [TenantView] }) items: TenantView[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `cursor` for the next page; null on the last page' }) next_cursor: string | null;
}

export class CreateApiKeyDto {
  @ApiProperty({ example: 'ci publisher' })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiProperty({ enum: API_KEY_ROLES, isArray: true, example: ['publisher'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(API_KEY_ROLES, { each: true })
  roles: ApiKeyRole[];
}

export class ApiKeyView {
  @ApiProperty() id: string;
  @ApiProperty() tenant_id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: API_KEY_ROLES, isArray: true }) roles: ApiKeyRole[];
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String }) revoked_at: string | null;

  static of(k: ApiKeyEntity): ApiKeyView {
    return {
      id: k.id,
      tenant_id: k.tenantId,
      name: k.name,
      roles: k.roles,
      created_at: k.createdAt.toISOString(),
      revoked_at: k.revokedAt?.toISOString() ?? null,
    };
  }
}

export class CreatedApiKeyView extends ApiKeyView {
  @ApiProperty({ description: 'The key itself. Shown only in this response; store it now.' })
  key: string;
}
