/**
 * `@reword/telegram/sandbox`: a local, stateful emulator of the Telegram Bot
 * API for tests (Node only), kept out of the main entry point.
 *
 * @since 0.1.0
 */
export * as TelegramSandbox from "./TelegramSandbox.ts"
