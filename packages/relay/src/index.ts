/**
 * `@reword/relay`: a two-way relay between Telegram and Bitrix24's Open
 * Lines: verified inbound events, stored before they are acknowledged,
 * carried to the other side through the outbox, echoes suppressed.
 *
 * @since 0.1.0
 */

export * as Handlers from "./Handlers.ts"
export * as Relay from "./Relay.ts"
export * as TextMapping from "./TextMapping.ts"
