/**
 * The sandbox kit shared by the providers' local emulators (Node only).
 *
 * @since 0.1.0
 */
export * as SandboxServer from "./SandboxServer.ts"
