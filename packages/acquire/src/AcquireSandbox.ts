/**
 * A faithful, stateful local emulator of Acquire, so that an app's own tests
 * can run their edits end to end: a real HTTP server on 127.0.0.1 with cases
 * and messages in memory, the four messenger endpoints (send, update, get,
 * delete) answering as documented, API keys with and without permission,
 * a request log, fault injection, and an inspection API that reads what a
 * message became. Node only; kept out of the main entry point: import it from
 * `@reword/acquire/sandbox`.
 *
 * Built on core's `SandboxServer` (`@reword/core/sandbox`): `sandbox.server`
 * holds the request log (`requests`) and the faults (`inject`, `clearFaults`).
 *
 * @example
 * ```ts
 * import { Acquire } from "@reword/acquire"
 * import { AcquireSandbox } from "@reword/acquire/sandbox"
 * import { createEditor } from "@reword/core/promise"
 *
 * const sandbox = await AcquireSandbox.start()
 * const ids = await sandbox.seedMessage("Meet at 11.")
 * const editor = await createEditor({ providers: Acquire.provider, env: sandbox.env })
 * await editor.update({ ids, text: "Meet at 10." })
 * sandbox.inspect(ids) // { text: "Meet at 10.", history: ["Meet at 11.", "Meet at 10."] }
 * sandbox.server.inject({ fault: AcquireSandbox.Faults.retryAfter(1), times: 1 }) // the next request is a 429
 * await editor.dispose()
 * await sandbox.stop()
 * ```
 *
 * @since 0.1.0
 */
import { randomBytes } from "node:crypto"
import { SandboxServer } from "@reword/core/sandbox"
import { Context, type Effect, Layer, Redacted, type Scope } from "effect"
import * as AcquireConfig from "./AcquireConfig.ts"
import * as Emulator from "./internal/sandbox/emulator.ts"
import * as Hold from "./internal/sandbox/hold.ts"
import type { Access, Case, HoldOptions, Message } from "./internal/sandbox/model.ts"

export type {
  /**
   * What an API key may do with cases and their messages.
   *
   * @category model
   * @since 0.1.0
   */
  Access,
  /**
   * A case (a conversation) as the sandbox holds it.
   *
   * @category model
   * @since 0.1.0
   */
  Case,
  /**
   * How requests are held by `Sandbox.holdRequests`.
   *
   * @category model
   * @since 0.1.0
   */
  HoldOptions,
  /**
   * A message as the sandbox holds it, with every text it had.
   *
   * @category model
   * @since 0.1.0
   */
  Message
} from "./internal/sandbox/model.ts"

/**
 * The ids {@link Sandbox.seedMessage} answers: the app's ids, and Acquire's id
 * of the stored message (always there).
 *
 * @category models
 * @since 0.1.0
 */
export interface SeededIds extends SandboxServer.RelayedIds {
  readonly providerMessageId: number
}

/**
 * A sandbox's settings as a plain settings object (`Provider.SettingsObject`): every value a string.
 *
 * @category models
 * @since 0.2.0
 */
export interface PlainSettings {
  readonly provider: "acquire"
  readonly acquire: Readonly<Record<string, string>>
}

/**
 * The settings object of an environment: each setting's value under its key.
 */
const plainOf = (env: Readonly<Record<string, string | undefined>>): PlainSettings => ({
  provider: "acquire",
  acquire: Object.fromEntries(
    AcquireConfig.settings.flatMap((setting) => {
      const value = env[setting.env]
      return value === undefined ? [] : [[setting.key, value]]
    })
  )
})

/**
 * The environment that points reword at a sandbox: `REWORD_PROVIDER`, the
 * `ACQUIRE_*` settings, and the opt-in for plain HTTP to the loopback address.
 *
 * @category models
 * @since 0.1.0
 */
export type Environment = {
  readonly REWORD_PROVIDER: "acquire"
  readonly ACQUIRE_ACCOUNT_ID: string
  readonly ACQUIRE_API_KEY: string
  readonly ACQUIRE_BASE_URL: string
  readonly ACQUIRE_ALLOW_INSECURE_LOOPBACK: "true"
}

/**
 * A running Acquire sandbox: core's {@link SandboxServer.ProviderSandbox}
 * contract, plus Acquire's cases, messages and keys.
 *
 * @category models
 * @since 0.1.0
 */
export interface Sandbox extends SandboxServer.ProviderSandbox {
  readonly provider: "acquire"
  /** The server's address, `http://127.0.0.1:<port>` (what `https://{accountId}.acquire.io` is to the real one). */
  readonly url: string
  /** The API base URL, `http://127.0.0.1:<port>/api/v1`: `ACQUIRE_BASE_URL`. */
  readonly baseUrl: string
  /** The account id in `env` and `settings` (the sandbox serves any). */
  readonly accountId: string
  /** An API key with full access to cases and messages. */
  readonly apiKey: string
  /** An API key that may read messages but not send, update or delete them (403 `ERROR_UNAUTHORIZED_ACCESS`). */
  readonly readOnlyKey: string
  /** The environment that points reword at this sandbox, with {@link Sandbox.apiKey}. */
  readonly env: Environment
  /** The same settings as an object, for `Acquire.make`, `Acquire.layer` and `AcquireClient.make`. */
  readonly settings: AcquireConfig.SettingsInput & {
    readonly apiKey: Redacted.Redacted<string>
    readonly baseUrl: string
  }
  /**
   * The settings as plain strings, for a config file: `JSON.stringify` it, and read it back with
   * `Provider.fromObject`. The sandbox's credentials are fake, so they are written as they are;
   * `settings` holds them `Redacted`, which a file receives as `"<redacted>"` (refused as a credential).
   *
   * @since 0.2.0
   */
  readonly plainSettings: () => PlainSettings
  /** Every case, by id (live: it changes as the sandbox does). */
  readonly cases: ReadonlyMap<number, Case>
  /** Every message not deleted, by id (live). */
  readonly messages: ReadonlyMap<number, Message>
  /** A message by Acquire's id (a number or a string of digits), or `undefined`. */
  readonly message: (id: number | string) => Message | undefined
  /** Opens an active case, for a new contact unless `contactId` is given. */
  readonly openCase: (options?: { readonly contactId?: number | undefined }) => Case
  /** Closes a case: it then refuses new messages (its messages can still be read and updated). */
  readonly closeCase: (caseId: number) => Case | undefined
  /** Makes a new API key with this access (default `full`). */
  readonly createKey: (access?: Access) => string
  /** Deletes an API key: its requests are then answered 401 `ERROR_UNAUTHORIZED`. Answers whether it existed. */
  readonly revokeKey: (key: string) => boolean
  /**
   * Stores a message as an app would have sent it into the case of
   * `ids.externalChatId` (a case is opened for a chat the first time, and again
   * when its case was closed). External ids not given are made up; Acquire's id
   * is `ids.providerMessageId` when given (rejects when taken), a new one
   * otherwise.
   */
  readonly seedMessage: (text: string, ids?: Partial<SandboxServer.RelayedIds>) => Promise<SeededIds>
  /**
   * Reads a message by `ids.providerMessageId` (a number, or a string of
   * digits): its text and history (a copy), or `undefined`. Takes the ids of a
   * request (`EditRequestInput["ids"]`) as well as those {@link Sandbox.seedMessage} answered.
   */
  readonly inspect: (ids: SandboxServer.InspectIds) => SandboxServer.StoredMessage | undefined
  /** Starts (or, with `undefined`, stops) holding requests, and starts counting {@link Sandbox.maxInFlight} afresh. */
  readonly holdRequests: (options: HoldOptions | undefined) => void
  /** The most requests in flight at once since the last {@link Sandbox.holdRequests}. */
  readonly maxInFlight: () => number
  /** Stops the server (held and hanging requests are let go or cut). Safe to call twice. */
  readonly stop: () => Promise<void>
}

/**
 * Options of a sandbox.
 *
 * @category options
 * @since 0.1.0
 */
export interface Options {
  /** The port (0, the default, picks a free one). */
  readonly port?: number | undefined
  /** The full-access API key; a new random one by default. */
  readonly apiKey?: string | undefined
  /** The read-only API key; a new random one by default. */
  readonly readOnlyKey?: string | undefined
  /** The account id put in `env` and `settings`. Default `sandbox`. */
  readonly accountId?: string | undefined
  /** The most requests kept in the log. Default 10,000. */
  readonly logLimit?: number | undefined
  /**
   * The largest request body taken, in bytes; a larger one is answered `413`
   * and its connection closed without reading the rest. Default 1 MiB
   * (`SandboxServer.DEFAULT_MAX_BODY_BYTES`).
   */
  readonly maxBodyBytes?: number | undefined
}

/**
 * Core's fault constructors, for `sandbox.server.inject({ fault, times | share })`:
 * `status`, `retryAfter`, `html`, `malformedJson`, `empty`, `truncated`, `reset`, `hang`.
 *
 * @category utils
 * @since 0.1.0
 */
export const Faults: typeof SandboxServer.Faults = SandboxServer.Faults

const newKey = (prefix: string): string => `${prefix}_${randomBytes(16).toString("hex")}`

const checkKey = (key: string, option: string): string => {
  if (!/^[\x21-\x7e]{8,}$/.test(key)) {
    throw new TypeError(`${option} must be at least 8 printable characters without spaces`)
  }
  return key
}

/**
 * Starts a sandbox on 127.0.0.1. Rejects when an option is unusable (an
 * account id that is not a DNS label, a key with spaces) or the port is taken.
 *
 * @example
 * ```ts
 * import { AcquireSandbox } from "@reword/acquire/sandbox"
 *
 * const sandbox = await AcquireSandbox.start({ port: 0 })
 * console.log(sandbox.env.ACQUIRE_BASE_URL) // http://127.0.0.1:<port>/api/v1
 * await sandbox.stop()
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const start = async (options: Options = {}): Promise<Sandbox> => {
  const accountId = options.accountId ?? "sandbox"
  if (!AcquireConfig.isAccountId(accountId)) {
    throw new TypeError(`"${accountId}" is not an account id (a DNS label, such as acme)`)
  }
  const apiKey = checkKey(options.apiKey ?? newKey("acq_sandbox"), "apiKey")
  const readOnlyKey = checkKey(options.readOnlyKey ?? newKey("acq_sandbox_ro"), "readOnlyKey")
  if (apiKey === readOnlyKey) throw new TypeError("apiKey and readOnlyKey must differ")

  const emulator = Emulator.make()
  emulator.keys.set(apiKey, "full")
  emulator.keys.set(readOnlyKey, "read-only")
  const gate = Hold.make(emulator.handler)
  const { server, stop } = await SandboxServer.host(gate.handler, {
    port: options.port,
    logLimit: options.logLimit,
    maxBodyBytes: options.maxBodyBytes,
    // An answer the emulator could not give is Acquire's own 500.
    internalError: (message) => Emulator.failure(500, "ERROR_SERVER_ERROR", message),
    // Held requests are let go before the server stops.
    beforeStop: () => gate.hold(undefined)
  })

  const baseUrl = `${server.url}/api/v1`
  const env: Environment = {
    REWORD_PROVIDER: "acquire",
    ACQUIRE_ACCOUNT_ID: accountId,
    ACQUIRE_API_KEY: apiKey,
    ACQUIRE_BASE_URL: baseUrl,
    ACQUIRE_ALLOW_INSECURE_LOOPBACK: "true"
  }

  /** The case each external chat was seeded into. */
  const chatCases = new Map<string, number>()
  const seed = SandboxServer.makeSeeder()

  const seedMessage = async (text: string, ids: Partial<SandboxServer.RelayedIds> = {}): Promise<SeededIds> => {
    const external = seed(text, ids)
    const providerMessageId = ids.providerMessageId
    if (providerMessageId !== undefined) {
      if (!Number.isSafeInteger(providerMessageId) || providerMessageId <= 0) {
        throw new TypeError(`providerMessageId ${providerMessageId} is not an Acquire message id (a positive integer)`)
      }
      if (emulator.messages.has(providerMessageId)) {
        throw new Error(`The sandbox already has a message ${providerMessageId}`)
      }
    }
    const { externalChatId } = external
    const known = chatCases.get(externalChatId)
    const existing = known === undefined ? undefined : emulator.cases.get(known)
    const kase = existing?.status === "active" ? existing : emulator.openCase()
    chatCases.set(externalChatId, kase.id)
    const message = emulator.store({ caseId: kase.id, text, id: providerMessageId })
    return { ...external, providerMessageId: message.id }
  }

  const message = (id: number | string): Message | undefined =>
    typeof id === "number" || /^[0-9]{1,16}$/.test(id) ? emulator.messages.get(Number(id)) : undefined

  return {
    provider: "acquire",
    url: server.url,
    baseUrl,
    accountId,
    apiKey,
    readOnlyKey,
    env,
    settings: { accountId, apiKey: Redacted.make(apiKey), baseUrl, allowInsecureLoopback: true },
    plainSettings: () => plainOf(env),
    server,
    cases: emulator.cases,
    messages: emulator.messages,
    message,
    openCase: (caseOptions) => emulator.openCase(caseOptions?.contactId),
    closeCase: emulator.closeCase,
    createKey: (access = "full") => {
      const key = newKey("acq_sandbox")
      emulator.keys.set(key, access)
      return key
    },
    revokeKey: (key) => emulator.keys.delete(key),
    seedMessage,
    inspect: (ids) => {
      const id = ids?.providerMessageId
      const found = typeof id === "number" || typeof id === "string" ? message(id) : undefined
      return found === undefined ? undefined : { text: found.text, history: [...found.history] }
    },
    holdRequests: gate.hold,
    maxInFlight: gate.maxInFlight,
    stop
  }
}

/**
 * A sandbox for the life of a scope: stopped when the scope closes.
 *
 * @example
 * ```ts
 * import { AcquireSandbox } from "@reword/acquire/sandbox"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function* () {
 *   const sandbox = yield* AcquireSandbox.scoped()
 *   const ids = yield* Effect.promise(() => sandbox.seedMessage("Hello"))
 *   return sandbox.inspect(ids)
 * }).pipe(Effect.scoped)
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const scoped: (options?: Options) => Effect.Effect<Sandbox, never, Scope.Scope> = SandboxServer.scopedFrom(start)

/**
 * The sandbox as a service.
 *
 * @category services
 * @since 0.1.0
 */
export class AcquireSandbox extends Context.Service<AcquireSandbox, Sandbox>()("@reword/acquire/AcquireSandbox") {}

/**
 * The sandbox as a layer: started when the layer is built, stopped when its
 * scope closes.
 *
 * @example
 * ```ts
 * import { AcquireSandbox } from "@reword/acquire/sandbox"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function* () {
 *   const sandbox = yield* AcquireSandbox.AcquireSandbox
 *   return sandbox.env
 * }).pipe(Effect.provide(AcquireSandbox.layer()))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options?: Options): Layer.Layer<AcquireSandbox> => Layer.effect(AcquireSandbox, scoped(options))
