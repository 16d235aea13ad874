/**
 * @reword/telegram: edit messages a Telegram bot already sent, through
 * reword's provider-neutral `MessageEditor`.
 *
 * @since 0.1.0
 */

export * as Telegram from "./Telegram.ts"
export * as TelegramClient from "./TelegramClient.ts"
export * as TelegramConfig from "./TelegramConfig.ts"
export * as TelegramMessageEditor from "./TelegramMessageEditor.ts"
export * as TelegramRateLimiter from "./TelegramRateLimiter.ts"
export * as TelegramSchemas from "./TelegramSchemas.ts"
