// @hookhub/sdk/nestjs: the NestJS module (needs @nestjs/common and @nestjs/core).
export { HOOKHUB_MODULE_OPTIONS, HookhubModule, HookhubPublisher, type HookhubModuleOptions } from './hookhub.module';
