/**
 * `@reword/acquire/sandbox`: a local, stateful Acquire emulator for tests
 * (Node only), kept out of the main entry point.
 *
 * @since 0.1.0
 */
export * as AcquireSandbox from "./AcquireSandbox.ts"
