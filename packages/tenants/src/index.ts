/**
 * `@reword/tenants`: many tenants for reword. A tenant is one installation: a
 * Bitrix24 portal (`member_id`) or an Acquire account.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as KeyRing from "./KeyRing.ts"
/** @since 0.1.0 */
export { layerSqlite } from "./Sqlite.ts"
/** @since 0.1.0 */
export * as TenantError from "./TenantError.ts"
/** @since 0.1.0 */
export * as TenantRegistry from "./TenantRegistry.ts"
