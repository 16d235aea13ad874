/**
 * `@reword/telegram/updates`: the updates Telegram posts to a bot's webhook, verified.
 *
 * @since 0.3.0
 */

/** @since 0.3.0 */
export * as Updates from "./TelegramUpdates.ts"
