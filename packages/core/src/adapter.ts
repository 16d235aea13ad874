/**
 * `@reword/core/adapter`: what an adapter author uses to write a provider (as `@ai-sdk/provider-utils` is
 * to `@ai-sdk/provider`): the HTTP transport and its failures, reading untrusted answers, secrets kept out
 * of every error, option checks and retry policies, settings declared once, and the metrics an adapter
 * records. Apps need none of it: they use `@reword/core`.
 *
 * @since 0.4.0
 */

export * as BaseUrl from "./BaseUrl.ts"
export * as HttpFailure from "./HttpFailure.ts"
export * as HttpTransport from "./HttpTransport.ts"
export * as MetricsRecorder from "./MetricsRecorder.ts"
export * as OptionCheck from "./OptionCheck.ts"
export * as ProviderKit from "./ProviderKit.ts"
export * as Refusal from "./Refusal.ts"
export * as RetryPolicy from "./RetryPolicy.ts"
export * as Secrets from "./Secrets.ts"
export * as SharedLimiter from "./SharedLimiter.ts"
export * as Untrusted from "./Untrusted.ts"
