/**
 * @reword/bitrix24: edit messages already sent to Bitrix24 Open Lines through
 * `imconnector.update.messages`.
 *
 * @since 0.1.0
 */

export * as Bitrix24 from "./Bitrix24.ts"
export * as Bitrix24Client from "./Bitrix24Client.ts"
export * as Bitrix24Config from "./Bitrix24Config.ts"
export * as Bitrix24MessageEditor from "./Bitrix24MessageEditor.ts"
export * as Bitrix24Schemas from "./Bitrix24Schemas.ts"
export * as Events from "./Events.ts"
export * as RateLimiter from "./RateLimiter.ts"
export * as TokenStore from "./TokenStore.ts"
