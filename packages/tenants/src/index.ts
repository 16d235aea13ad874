/**
 * `@reword/tenants`: many tenants for reword. A tenant is one installation: a
 * Bitrix24 portal (`member_id`) or an Acquire account.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as AcquireAccounts from "./AcquireAccounts.ts"
/** @since 0.1.0 */
export * as Bitrix24App from "./Bitrix24App.ts"
/** @since 0.1.0 */
export * as Bitrix24Lifecycle from "./Bitrix24Lifecycle.ts"
/** @since 0.1.0 */
export * as KeyRing from "./KeyRing.ts"
/** @since 0.1.0 */
export { layerSqlite } from "./Sqlite.ts"
/** @since 0.1.0 */
export * as TenantEditors from "./TenantEditors.ts"
/** @since 0.1.0 */
export * as TenantError from "./TenantError.ts"
/** @since 0.1.0 */
export * as TenantRegistry from "./TenantRegistry.ts"
/** @since 0.1.0 */
export * as TenantTokenStore from "./TenantTokenStore.ts"
