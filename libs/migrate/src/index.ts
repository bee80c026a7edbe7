/** @tributary/migrate — one migration stream for many MikroORM services sharing one database. */
export * from './api.ts';
export { loadConfig, type TributaryConfig } from './config/config.ts';
export { discoverServices, type Service } from './config/services.ts';
export { TributaryError } from './errors.ts';
export type { MakeMigrationsOptions, MakeMigrationsResult } from './diff/makemigrations.ts';
export type { MigrateOptions, MigrateEvents, MigrateResult } from './executor/migrate.ts';
export type { RollbackOptions } from './executor/rollback.ts';
export type { CheckReport, Problem } from './checks/check.ts';
export type { HistoryRow } from './db/history.ts';
export type { FanOutEvent, FanOutOptions, MigrateTargetsResult, TargetResult, TargetStatus } from './targets/fan-out.ts';
