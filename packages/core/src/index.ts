/**
 * @reword/core: the provider-neutral port for editing chat messages that were already sent: what an app uses.
 * What adapter authors use (the HTTP transport, option checks, secrets, settings declarations) is in
 * `@reword/core/adapter`; the Promise API is `@reword/core/promise`.
 *
 * @since 0.1.0
 */

export * as Capabilities from "./Capabilities.ts"
export * as EditError from "./EditError.ts"
export * as EditedMessage from "./EditedMessage.ts"
export * as EditRequest from "./EditRequest.ts"
export * as InboundEvent from "./InboundEvent.ts"
export * as InMemoryEditor from "./InMemoryEditor.ts"
export * as MessageEditor from "./MessageEditor.ts"
export * as Metrics from "./Metrics.ts"
export * as Provider from "./Provider.ts"
export * as Telemetry from "./Telemetry.ts"
