/**
 * The provider sandbox kit: what every provider's emulator shares (the ids an
 * app keeps, seeding, guarding, a stop that runs once). Re-exported by
 * `SandboxServer`.
 */
import type { EditRequestInput } from "../../EditRequest.ts"
import type { Handler, SandboxAnswer, SandboxServer, ServerOptions } from "../../SandboxServer.ts"

/**
 * The ids an app keeps for a message it relayed.
 *
 * @category models
 * @since 0.1.0
 */
export interface RelayedIds {
  readonly externalMessageId: string
  readonly externalChatId: string
  readonly externalAuthorId: string
  readonly providerMessageId?: number | undefined
  /** The provider's id of the chat, where the provider keys a message by its chat (Telegram). */
  readonly providerChatId?: number | undefined
}

/**
 * The ids {@link ProviderSandbox.inspect} takes: the ids of a request
 * (`EditRequestInput["ids"]`), so that an app reads back a message by the ids
 * it edited it with; each sandbox uses those its provider needs.
 *
 * @category models
 * @since 0.1.0
 */
export type InspectIds = EditRequestInput["ids"]

/**
 * A stored message as a sandbox holds it: its text now and every version, oldest first.
 *
 * @category models
 * @since 0.1.0
 */
export interface StoredMessage {
  readonly text: string | undefined
  readonly history: ReadonlyArray<string | undefined>
}

/**
 * What every provider sandbox offers, whatever the provider: where it is, how
 * to point reword at it, a way to create a message to edit, and a way to read
 * what is stored.
 *
 * @category models
 * @since 0.1.0
 */
export interface ProviderSandbox {
  /** The provider it stands in for (`bitrix24`, `acquire`). */
  readonly provider: string
  readonly url: string
  /** The environment that points reword at this sandbox, `REWORD_PROVIDER` included. */
  readonly env: Readonly<Record<string, string>>
  /** The server: request log and fault injection. */
  readonly server: SandboxServer
  /**
   * Creates a message as if an app had relayed it, and answers the ids the app
   * would keep. Ids not given are made up (the provider's own id is always the
   * sandbox's, unless given).
   */
  readonly seedMessage: (text: string, ids?: Partial<RelayedIds>) => Promise<RelayedIds>
  /**
   * Reads a stored message by the ids an app has (those of a request, or those
   * {@link ProviderSandbox.seedMessage} answered), or `undefined` when the
   * sandbox has no such message (or the ids lack what the provider needs).
   */
  readonly inspect: (ids: InspectIds) => StoredMessage | undefined
  readonly stop: () => Promise<void>
}

/**
 * The ids {@link ProviderSandbox.seedMessage} makes up for those not given:
 * `sandbox-message-<n>` (n counts the sandbox's seeds from 1), `sandbox-chat`
 * and `sandbox-author`.
 *
 * @category sandbox kit
 * @since 0.1.0
 */
export const SEED_DEFAULTS = {
  externalMessageIdPrefix: "sandbox-message-",
  externalChatId: "sandbox-chat",
  externalAuthorId: "sandbox-author"
} as const

/**
 * The external ids of a seeded message, with what a sandbox seeds.
 *
 * @category sandbox kit
 * @since 0.1.0
 */
export type ExternalIds = Omit<RelayedIds, "providerMessageId" | "providerChatId">

/**
 * A sandbox's seeding rules, once for every provider: the text must be a
 * non-empty string, each id given a non-empty string, and the ids not given
 * are made up ({@link SEED_DEFAULTS}). Each call counts one seed; it throws a
 * `TypeError` (a rejected `seedMessage`) on bad input.
 *
 * @category sandbox kit
 * @since 0.1.0
 */
export const makeSeeder = (): ((text: unknown, ids?: Partial<RelayedIds>) => ExternalIds) => {
  let seeded = 0
  return (text, ids = {}) => {
    if (typeof text !== "string" || text.length === 0) throw new TypeError("text must be a non-empty string")
    for (const name of ["externalMessageId", "externalChatId", "externalAuthorId"] as const) {
      const value: unknown = ids[name]
      if (value !== undefined && (typeof value !== "string" || value.length === 0)) {
        throw new TypeError(`${name} must be a non-empty string`)
      }
    }
    seeded += 1
    return {
      externalMessageId: ids.externalMessageId ?? `${SEED_DEFAULTS.externalMessageIdPrefix}${seeded}`,
      externalChatId: ids.externalChatId ?? SEED_DEFAULTS.externalChatId,
      externalAuthorId: ids.externalAuthorId ?? SEED_DEFAULTS.externalAuthorId
    }
  }
}

/**
 * A handler whose exceptions become the provider's own error answer (its 500,
 * in its own shape), so that a bug in an emulator reads as the provider
 * failing, never as a connection cut.
 *
 * @category sandbox kit
 * @since 0.1.0
 */
export const guard =
  (handler: Handler, internalError: (message: string) => SandboxAnswer): Handler =>
  async (request) => {
    try {
      return await handler(request)
    } catch (error) {
      return internalError(`Internal server error: ${String(error)}`)
    }
  }

/**
 * A stop that runs once: every call answers the same promise.
 *
 * @category sandbox kit
 * @since 0.1.0
 */
export const once = (stop: () => Promise<void>): (() => Promise<void>) => {
  let stopping: Promise<void> | undefined
  return () => {
    stopping ??= stop()
    return stopping
  }
}

/**
 * How a provider's emulator is served: the server's options, the provider's
 * own 500, and what to do before the server stops.
 *
 * @category sandbox kit
 * @since 0.1.0
 */
export interface HostOptions extends ServerOptions {
  /** The provider's own answer when its emulator throws. */
  readonly internalError: (message: string) => SandboxAnswer
  /** Runs once, just before the server stops (to let held requests go, say). */
  readonly beforeStop?: (() => void) | undefined
}

/**
 * A provider's emulator served: the server, and its stop (runs once).
 *
 * @category sandbox kit
 * @since 0.1.0
 */
export interface Hosted {
  readonly server: SandboxServer
  readonly stop: () => Promise<void>
}
