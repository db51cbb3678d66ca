import { Body, Controller, Get, HttpCode, Injectable, Param, Patch, PipeTransform, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { EVENT_TYPE_SYNTAX } from '@hookhub/contracts';
import { Problems } from '@hookhub/platform';
import { AdminTokenGuard } from '../auth/admin-token.guard';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { OptionalApiKeyGuard, OptionalPrincipal } from '../auth/optional-api-key.guard';
import { CurrentPrincipal, Principal, RequireRoles } from '../auth/principal';
import { CreateEventTypeDto, EventTypeList, EventTypeVersionDto, EventTypeView, UpdateEventTypeDto, UpdateEventTypeVersionDto } from './event-type.dto';
import { EventTypesService } from './event-types.service';

/** An event type's name in a path: one that breaks the syntax cannot exist, so it is a 404 like an unknown one. */
@Injectable()
export class EventTypeNamePipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!EVENT_TYPE_SYNTAX.test(value)) throw Problems.notFound('Event type');
    return value;
  }
}

/** The highest schema version there can be (as `schema_version` of an event). */
const MAX_SCHEMA_VERSION = 1_000_000;

/**
 * A schema version in a path: only a version's own number (1, 2, …) names it. Anything else (01, +1, 1e0, a
 * number PostgreSQL's integer cannot hold) names no version, so it is a 404 like an unknown one. The handler
 * takes the segment as a string: for a `number` parameter the global ValidationPipe would turn 1e0 or 0x1
 * into 1 before this pipe saw it.
 */
@Injectable()
export class SchemaVersionPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!/^[1-9][0-9]{0,6}$/.test(value) || Number(value) > MAX_SCHEMA_VERSION) throw Problems.notFound('Schema version');
    return value;
  }
}

/** The OpenAPI document keeps calling the version a number (as the generated SDK has it), though the handlers take the segment as written. */
const VERSION_PARAM = { name: 'version', type: Number };

const CREATE_REFUSALS = {
  unprocessable:
    'The name is in a built-in group (`reserved-event-type`), the model type or path is built-in (`reserved-model-type`, `reserved-resource-path`), ' +
    'a schema is not a JSON Schema that compiles (`invalid-schema`, each problem in `errors`), or the example does not follow it (`invalid-example`)',
  conflict: 'The name exists (`event-type-exists`), or the model type or resource path is taken another way (`model-type-conflict`, `resource-path-conflict`)',
};

/**
 * The event-type catalogue: built-in types, the platform's, and a tenant's
 * own. Reading is public (it holds no tenant data); with a tenant API key the
 * answer includes that tenant's types. A tenant's admin key defines its own.
 */
@ApiTags('event-types')
@Controller('v1/event-types')
export class EventTypesController {
  constructor(private readonly types: EventTypesService) {}

  @Get()
  @UseGuards(OptionalApiKeyGuard)
  @ApiBearerAuth('api-key')
  @ApiOperation({ summary: 'Event types with their schema versions, each with a JSON Schema and examples (the caller’s own types too, with an API key)' })
  @ApiOkResponse({ type: EventTypeList, description: 'The whole catalogue the caller sees' })
  list(@OptionalPrincipal() principal: Principal | undefined): EventTypeList {
    return this.types.list(principal?.tenantId ?? null);
  }

  @Get(':name')
  @UseGuards(OptionalApiKeyGuard)
  @ApiBearerAuth('api-key')
  @ApiOperation({ summary: 'One event type with every schema version' })
  @ApiOkResponse({ type: EventTypeView, description: 'The event type' })
  get(@OptionalPrincipal() principal: Principal | undefined, @Param('name', EventTypeNamePipe) name: string): Promise<EventTypeView> {
    return this.types.get(principal?.tenantId ?? null, name);
  }

  @Post()
  @HttpCode(201)
  @UseGuards(ApiKeyGuard)
  @RequireRoles('admin')
  @ApiBearerAuth('api-key')
  @ApiOperation({ summary: 'Define an event type of the tenant’s own, with its first schema version' })
  @ApiCreatedResponse({ type: EventTypeView, description: 'The event type; usable at once' })
  @ApiUnprocessableEntityResponse({ description: CREATE_REFUSALS.unprocessable })
  @ApiConflictResponse({ description: CREATE_REFUSALS.conflict })
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateEventTypeDto): Promise<EventTypeView> {
    return this.types.create(principal.tenantId, dto);
  }

  @Post(':name/versions')
  @HttpCode(201)
  @UseGuards(ApiKeyGuard)
  @RequireRoles('admin')
  @ApiBearerAuth('api-key')
  @ApiOperation({ summary: 'Add a schema version to one of the tenant’s types; it becomes the latest' })
  @ApiCreatedResponse({ type: EventTypeView, description: 'The event type with its new version' })
  @ApiForbiddenResponse({ description: 'A built-in or platform type' })
  @ApiUnprocessableEntityResponse({
    description: 'A schema is not a JSON Schema that compiles (`invalid-schema`), or the example does not follow it (`invalid-example`)',
  })
  addVersion(
    @CurrentPrincipal() principal: Principal,
    @Param('name', EventTypeNamePipe) name: string,
    @Body() dto: EventTypeVersionDto,
  ): Promise<EventTypeView> {
    return this.types.addVersion(principal.tenantId, name, dto);
  }

  @Patch(':name')
  @UseGuards(ApiKeyGuard)
  @RequireRoles('admin')
  @ApiBearerAuth('api-key')
  @ApiOperation({ summary: 'Change the description of one of the tenant’s types, or deprecate it' })
  @ApiOkResponse({ type: EventTypeView, description: 'The event type' })
  @ApiForbiddenResponse({ description: 'A built-in or platform type' })
  update(@CurrentPrincipal() principal: Principal, @Param('name', EventTypeNamePipe) name: string, @Body() dto: UpdateEventTypeDto): Promise<EventTypeView> {
    return this.types.update(principal.tenantId, name, dto);
  }

  @Patch(':name/versions/:version')
  @UseGuards(ApiKeyGuard)
  @RequireRoles('admin')
  @ApiBearerAuth('api-key')
  @ApiOperation({ summary: 'Deprecate a schema version of one of the tenant’s types, or take the deprecation back' })
  @ApiParam(VERSION_PARAM)
  @ApiOkResponse({ type: EventTypeView, description: 'The event type' })
  @ApiForbiddenResponse({ description: 'A built-in or platform type' })
  updateVersion(
    @CurrentPrincipal() principal: Principal,
    @Param('name', EventTypeNamePipe) name: string,
    @Param('version', SchemaVersionPipe) version: string,
    @Body() dto: UpdateEventTypeVersionDto,
  ): Promise<EventTypeView> {
    return this.types.updateVersion(principal.tenantId, name, Number(version), dto);
  }
}

/** Platform-wide event types, defined with the admin token: every tenant sees them and can publish and subscribe to them. */
@ApiTags('event-types')
@ApiBearerAuth('admin-token')
@UseGuards(AdminTokenGuard)
@Controller('v1/platform/event-types')
export class PlatformEventTypesController {
  constructor(private readonly types: EventTypesService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Define a platform-wide event type, with its first schema version' })
  @ApiCreatedResponse({ type: EventTypeView, description: 'The event type; usable at once by every tenant' })
  @ApiUnprocessableEntityResponse({ description: CREATE_REFUSALS.unprocessable })
  @ApiConflictResponse({ description: CREATE_REFUSALS.conflict })
  create(@Body() dto: CreateEventTypeDto): Promise<EventTypeView> {
    return this.types.create(null, dto);
  }

  @Post(':name/versions')
  @HttpCode(201)
  @ApiOperation({ summary: 'Add a schema version to a platform type; it becomes the latest' })
  @ApiCreatedResponse({ type: EventTypeView, description: 'The event type with its new version' })
  @ApiUnprocessableEntityResponse({
    description: 'A schema is not a JSON Schema that compiles (`invalid-schema`), or the example does not follow it (`invalid-example`)',
  })
  addVersion(@Param('name', EventTypeNamePipe) name: string, @Body() dto: EventTypeVersionDto): Promise<EventTypeView> {
    return this.types.addVersion(null, name, dto);
  }

  @Patch(':name')
  @ApiOperation({ summary: 'Change the description of a platform type, or deprecate it' })
  @ApiOkResponse({ type: EventTypeView, description: 'The event type' })
  update(@Param('name', EventTypeNamePipe) name: string, @Body() dto: UpdateEventTypeDto): Promise<EventTypeView> {
    return this.types.update(null, name, dto);
  }

  @Patch(':name/versions/:version')
  @ApiOperation({ summary: 'Deprecate a schema version of a platform type, or take the deprecation back' })
  @ApiParam(VERSION_PARAM)
  @ApiOkResponse({ type: EventTypeView, description: 'The event type' })
  updateVersion(
    @Param('name', EventTypeNamePipe) name: string,
    @Param('version', SchemaVersionPipe) version: string,
    @Body() dto: UpdateEventTypeVersionDto,
  ): Promise<EventTypeView> {
    return this.types.updateVersion(null, name, Number(version), dto);
  }
}
