import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { API_KEY_ROLES, type ApiKeyRole, PORTAL_SESSION_ROLES, PortalSessionEntity, type PortalSessionRole } from '@hookhub/persistence';
import { PORTAL_SESSION_DEFAULT_MS, PORTAL_SESSION_MAX_MS, PORTAL_SESSION_MIN_MS } from './portal-sessions.service';

export class CreatePortalSessionDto {
  @ApiProperty({
    format: 'uuid',
    description:
      "The tenant's API key the session acts under: what the session creates belongs to this key, and revoking the key ends the session at once. " +
      'An `admin` session needs a key with the admin role; a `reader` session one with the admin or reader role.',
  })
  @IsUUID('all', { message: 'api_key_id must be the id of an API key' })
  api_key_id: string;

  @ApiProperty({ enum: PORTAL_SESSION_ROLES, description: '`admin`: everything a tenant admin key may do except managing API keys; `reader`: GET only' })
  @IsIn(PORTAL_SESSION_ROLES)
  role: PortalSessionRole;

  @ApiPropertyOptional({
    minimum: PORTAL_SESSION_MIN_MS,
    maximum: PORTAL_SESSION_MAX_MS,
    default: PORTAL_SESSION_DEFAULT_MS,
    description: 'Lifetime in ms, at most 24 h',
  })
  @IsOptional()
  @IsInt()
  @Min(PORTAL_SESSION_MIN_MS)
  @Max(PORTAL_SESSION_MAX_MS)
  expires_in_ms?: number;
}

export class PortalSessionView {
  @ApiProperty() id: string;
  @ApiProperty() tenant_id: string;
  @ApiProperty() api_key_id: string;
  @ApiProperty({ enum: PORTAL_SESSION_ROLES }) role: PortalSessionRole;
  @ApiProperty() created_at: string;
  @ApiProperty() expires_at: string;
  @ApiProperty({ nullable: true, type: String }) revoked_at: string | null;

  static of(s: PortalSessionEntity): PortalSessionView {
    return {
      id: s.id,
      tenant_id: s.tenantId,
      api_key_id: s.apiKeyId,
      role: s.role,
      created_at: s.createdAt.toISOString(),
      expires_at: s.expiresAt.toISOString(),
      revoked_at: s.revokedAt?.toISOString() ?? null,
    };
  }
}

export class CreatedPortalSessionView extends PortalSessionView {
  @ApiProperty({ description: 'The session token (`hhp_…`), a bearer credential for /v1. Shown only in this response; only a hash is stored.' })
  token: string;

  @ApiProperty({
    description:
      "The portal link: append it to this API's base URL. The token travels in the fragment, which browsers do not send to servers or put in Referer headers.",
    example: '/portal/#session=hhp_…',
  })
  portal_path: string;
}

export class PortalSessionPage {
  @ApiProperty({ type: [PortalSessionView] }) items: PortalSessionView[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `cursor` for the next page; null on the last page' }) next_cursor: string | null;
}

export class CurrentSessionView {
  @ApiProperty() id: string;
  @ApiProperty({ enum: PORTAL_SESSION_ROLES }) role: PortalSessionRole;
  @ApiProperty() expires_at: string;
}

export class WhoAmIView {
  @ApiProperty() tenant_id: string;
  @ApiProperty({ description: 'The API key: the caller itself, or the one its portal session acts under' }) api_key_id: string;
  @ApiProperty({ enum: API_KEY_ROLES, isArray: true }) roles: ApiKeyRole[];
  @ApiProperty({ type: CurrentSessionView, nullable: true, description: 'The portal session, when the caller is one' })
  session: CurrentSessionView | null;
}
