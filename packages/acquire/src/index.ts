/**
 * @reword/acquire: edit chat messages already sent on Acquire, through reword's
 * provider-neutral `MessageEditor`.
 *
 * @since 0.1.0
 */

export * as Acquire from "./Acquire.ts"
export * as AcquireClient from "./AcquireClient.ts"
export * as AcquireConfig from "./AcquireConfig.ts"
export * as AcquireMessageEditor from "./AcquireMessageEditor.ts"
export * as AcquireSchemas from "./AcquireSchemas.ts"
