/**
 * `@reword/bitrix24/sandbox`: a local, stateful emulator of a Bitrix24 portal
 * and its OAuth server for tests (Node only), kept out of the main entry point.
 *
 * @since 0.1.0
 */

export * as Bitrix24Portals from "./Bitrix24Portals.ts"
export * as Bitrix24Sandbox from "./Bitrix24Sandbox.ts"
