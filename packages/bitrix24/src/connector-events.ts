/**
 * `@reword/bitrix24/connector-events`: the connector's message events, verified.
 *
 * @since 0.3.0
 */

/** @since 0.3.0 */
export * as ConnectorEvents from "./ConnectorEvents.ts"
