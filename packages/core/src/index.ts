/**
 * @reword/core: the provider-neutral port for editing chat messages that were already sent.
 *
 * @since 0.1.0
 */

export * as BaseUrl from "./BaseUrl.ts"
export * as Capabilities from "./Capabilities.ts"
export * as EditError from "./EditError.ts"
export * as EditedMessage from "./EditedMessage.ts"
export * as EditRequest from "./EditRequest.ts"
export * as HttpFailure from "./HttpFailure.ts"
export * as HttpTransport from "./HttpTransport.ts"
export * as InMemoryEditor from "./InMemoryEditor.ts"
export * as MessageEditor from "./MessageEditor.ts"
export * as Metrics from "./Metrics.ts"
export * as OptionCheck from "./OptionCheck.ts"
export * as PromiseEditor from "./PromiseEditor.ts"
export * as Provider from "./Provider.ts"
export * as RetryPolicy from "./RetryPolicy.ts"
export * as Secrets from "./Secrets.ts"
export * as Telemetry from "./Telemetry.ts"
export * as Untrusted from "./Untrusted.ts"
