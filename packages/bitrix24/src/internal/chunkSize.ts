/** How many messages one `imconnector.update.messages` call carries: the first calls' size, and the most. */

/**
 * How many messages the first `imconnector.update.messages` calls carry,
 * before the portal's answers told what a message costs: small enough to stay
 * well inside the portal's 60 s per request. Without a `chunkSize` option,
 * later calls carry what the server time per message allows, up to
 * {@link MAX_CHUNK_SIZE} (see `serverTime.ts`).
 */
export const DEFAULT_CHUNK_SIZE = 20

/**
 * The most a chunk may hold (the size of a REST `batch`, the portal's own unit of "many").
 */
export const MAX_CHUNK_SIZE = 50
