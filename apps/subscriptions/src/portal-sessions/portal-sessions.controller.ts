import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ProblemException } from '@hookhub/platform';
import { AdminTokenGuard } from '../auth/admin-token.guard';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { CurrentPrincipal, Principal, ReaderSessionsMayCall } from '../auth/principal';
import { ListQuery } from '../common/pagination.dto';
import { ParseResourceIdPipe } from '../common/parse-id.pipe';
import { CreatedPortalSessionView, CreatePortalSessionDto, PortalSessionPage, PortalSessionView, WhoAmIView } from './portal-session.dto';
import { PortalSessionsService } from './portal-sessions.service';

/** The platform (admin token) opens the portal for a tenant's people: short-lived sessions, revocable at once. */
@ApiTags('portal-sessions')
@ApiBearerAuth('admin-token')
@UseGuards(AdminTokenGuard)
@Controller('v1/tenants')
export class PortalSessionsController {
  constructor(private readonly sessions: PortalSessionsService) {}

  @Post(':tenantId/portal-sessions')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Open a portal session for a tenant; its token and link are shown once',
    description:
      'A short-lived bearer credential (`hhp_…`, at most 24 h) scoped to the tenant, acting under one of its API keys. The portal link ' +
      '(`portal_path`) signs the browser in; the token also works as `Authorization: Bearer` on /v1. Revoking the session or its key ends it at once.',
  })
  @ApiCreatedResponse({ type: CreatedPortalSessionView, description: 'The session with its token (shown only here)' })
  @ApiUnprocessableEntityResponse({ description: "The key is not the tenant's, is revoked, or lacks the role the session needs (`unusable-api-key`)" })
  async create(@Param('tenantId', ParseUUIDPipe) tenantId: string, @Body() dto: CreatePortalSessionDto): Promise<CreatedPortalSessionView> {
    const { entity, token } = await this.sessions.create(tenantId, { apiKeyId: dto.api_key_id, role: dto.role, expiresInMs: dto.expires_in_ms });
    return { ...PortalSessionView.of(entity), token, portal_path: `/portal/#session=${token}` };
  }

  @Get(':tenantId/portal-sessions')
  @ApiOperation({ summary: "A tenant's portal sessions, newest first, expired and revoked ones included (never the tokens)" })
  @ApiOkResponse({ type: PortalSessionPage, description: 'One page of sessions' })
  async list(@Param('tenantId', ParseUUIDPipe) tenantId: string, @Query() query: ListQuery): Promise<PortalSessionPage> {
    const page = await this.sessions.list(tenantId, query.limit ?? 50, query.cursor);
    return { items: page.items.map(PortalSessionView.of), next_cursor: page.nextCursor };
  }

  @Delete(':tenantId/portal-sessions/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a portal session: its next request, on any pod, is refused' })
  @ApiNoContentResponse({ description: 'Revoked' })
  async revoke(@Param('tenantId', ParseUUIDPipe) tenantId: string, @Param('id', new ParseResourceIdPipe('Portal session')) id: string): Promise<void> {
    await this.sessions.revoke(tenantId, id);
  }
}

/** Who the caller is: the portal asks on sign-in what it may show, and signs out by ending its own session. */
@ApiTags('portal-sessions')
@ApiBearerAuth('api-key')
@UseGuards(ApiKeyGuard)
@Controller('v1/me')
export class WhoAmIController {
  constructor(private readonly sessions: PortalSessionsService) {}

  @Get()
  @ApiOperation({ summary: 'The caller: its tenant, key, roles and, for a portal session, the session' })
  @ApiOkResponse({ type: WhoAmIView, description: 'The caller' })
  async get(@CurrentPrincipal() principal: Principal): Promise<WhoAmIView> {
    const session = principal.sessionId ? await this.sessions.describe(principal.sessionId, principal.tenantId) : null;
    return {
      tenant_id: principal.tenantId,
      api_key_id: principal.keyId,
      roles: principal.roles,
      session: session ? { id: session.id, role: session.role, expires_at: session.expiresAt.toISOString() } : null,
    };
  }

  @Delete('session')
  @HttpCode(204)
  @ReaderSessionsMayCall()
  @ApiOperation({ summary: "End the caller's own portal session (sign out)" })
  @ApiNoContentResponse({ description: 'Ended' })
  @ApiNotFoundResponse({ description: 'The caller is an API key, not a portal session' })
  async signOut(@CurrentPrincipal() principal: Principal): Promise<void> {
    if (!principal.sessionId) throw new ProblemException(HttpStatus.NOT_FOUND, 'not-found', 'Not found', 'The caller is an API key, not a portal session');
    await this.sessions.revoke(principal.tenantId, principal.sessionId);
  }
}
