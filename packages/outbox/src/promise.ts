/**
 * The outbox for apps not on Effect: `createOutbox` answers an object whose
 * methods mirror the Effect service and return Promises. Failures reject with
 * the same typed errors (`StorageError`, `NotFound`, `EditError`).
 *
 * @since 0.1.0
 */
import { Provider } from "@reword/core"
import { OptionCheck, type RetryPolicy } from "@reword/core/adapter"
import { ConfigurationError } from "@reword/core/promise"
import {
  Cause,
  type Config,
  Effect,
  Exit,
  Layer,
  ManagedRuntime,
  Option,
  Predicate,
  Redacted,
  Result,
  type Scope
} from "effect"
import * as NodeSqlite from "./internal/nodeSqlite.ts"
import * as OutboxOptions from "./internal/options.ts"
import * as Outbox from "./Outbox.ts"
import { StorageError } from "./OutboxError.ts"

/**
 * The options are wrong (core's `ConfigurationError`): its message names every wrong field.
 *
 * @since 0.2.0
 */
export { ConfigurationError } from "@reword/core/promise"
export type {
  Attempt,
  Counts,
  Entry,
  History,
  IdChange,
  Query,
  Receipt,
  Recorded,
  Repoint,
  Submission,
  TenantEditors,
  Version
} from "./Outbox.ts"
export { NotFound, StorageError } from "./OutboxError.ts"

/**
 * Where the outbox keeps its state: a SQLite file path (or `:memory:`), or a
 * PostgreSQL URL (`@effect/sql-pg` must be installed).
 *
 * @since 0.1.0
 */
export type Database =
  | string
  | { readonly sqlite: string; readonly synchronous?: "FULL" | "NORMAL" | undefined }
  | { readonly postgres: string; readonly maxConnections?: number | undefined }

/**
 * What `createOutbox` takes: the providers (as `createEditor` does) or ready
 * editors, the database, and the outbox's options.
 *
 * @since 0.1.0
 */
export interface CreateOutboxOptions<D extends Provider.AnyDescriptor = Provider.AnyDescriptor>
  extends Omit<Outbox.Options, "editors" | "editorsFor"> {
  /** Provider descriptors (`Acquire.provider`, `Bitrix24.provider`); settings from `settings` or `env`. */
  readonly providers?: ReadonlyArray<D> | D | undefined
  /** A plain settings object; when omitted, settings come from `env`. */
  readonly settings?: NoInfer<Provider.SettingsObject<D>> | undefined
  /** Environment variables to read (default: `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
  /**
   * Options only one provider understands, by provider name, such as where
   * Bitrix24 keeps its rotating tokens: `{ bitrix24: { tokenStore, rateLimiter } }`.
   * Typed from `providers`, as `createEditor`'s: a misspelled name or key does
   * not compile, and is a `ConfigurationError` at run time.
   */
  readonly providerOptions?: NoInfer<Provider.ProviderOptions<D>> | undefined
  /** The account of the editor built from `providers` (default `default`). */
  readonly account?: string | undefined
  /** Ready editors instead of `providers` (Effect `MessageEditor` services, built with `retry: { maxAttempts: 1 }`). */
  readonly editors?: ReadonlyArray<Outbox.Route> | undefined
  /**
   * The editors of every tenant but `default` (and of `default` too when neither `providers` nor `editors`
   * is given), asked for when the tenant's edits are delivered: as the Effect API's `editorsFor` (an Effect
   * of the tenant's editor or routes, such as `@reword/tenants`' `createTenants(...).editorsFor`), or a
   * Promise of them. A failure (a rejection) dead-letters that tenant's edits with its message, unless it
   * says `isRetryable: true` (then they wait and are tried again); other tenants' edits are not touched.
   *
   * @since 0.5.0
   */
  readonly editorsFor?: EditorsFor | undefined
  /** Transport options of the editor built from `providers` (timeout per attempt, ...). */
  readonly transport?: Provider.SelectionOptions["transport"] | undefined
  /** Provider calls at once of the editor built from `providers`. */
  readonly concurrency?: number | undefined
  readonly database: Database
}

/**
 * A tenant's editors for the Promise outbox: the Effect API's {@link Outbox.EditorsFor}, or a function
 * answering a Promise of the tenant's editor (an Effect `MessageEditor` service) or routes.
 *
 * @since 0.5.0
 */
export type EditorsFor =
  | Outbox.EditorsFor
  | ((tenant: string) => PromiseLike<Outbox.TenantEditors> | Effect.Effect<Outbox.TenantEditors, unknown, Scope.Scope>)

/**
 * The result of one item of `submitMany` or `recordMany`, shaped like `Promise.allSettled`'s: the
 * receipt, or the typed error that item alone failed with (`EditError`, `NotFound`, `StorageError`).
 *
 * @since 0.2.0
 */
export type Settled<A> =
  | { readonly status: "fulfilled"; readonly value: A }
  | { readonly status: "rejected"; readonly reason: Error }

/**
 * The Promise outbox.
 *
 * @since 0.1.0
 */
export interface PromiseOutbox {
  readonly record: (message: Outbox.Recorded) => Promise<void>
  /**
   * Records many messages, each judged alone: one settled result per message, in input order. Rejects
   * only when the input is not a list (or holds more than 100,000), or after `close()`.
   */
  readonly recordMany: (messages: Iterable<Outbox.Recorded>) => Promise<Array<Settled<void>>>
  /** Runs `send`, then records the message with the provider id taken from its answer (`answer.id` by default). */
  readonly recordSent: <A>(
    message: Outbox.Recorded,
    send: () => Promise<A>,
    providerIdOf?: (answer: A) => string | number | undefined
  ) => Promise<A>
  /** Points a message at other ids, deliberately (an id that conflicts is refused by `record` and `submit`). */
  readonly repoint: (message: Outbox.Repoint) => Promise<void>
  readonly submit: (edit: Outbox.Submission) => Promise<Outbox.Receipt>
  /**
   * Stores many edits in few transactions, each judged alone: one settled result per edit, in input
   * order (the latest edit of a message in the list is its newest version). Rejects only when the input
   * is not a list (or holds more than 100,000 edits), or after `close()`.
   */
  readonly submitMany: (edits: Iterable<Outbox.Submission>) => Promise<Array<Settled<Outbox.Receipt>>>
  /**
   * Dead-letters every pending edit of a tenant with this reason (such as `@reword/tenants`' `UNINSTALLED`,
   * when its portal uninstalled the application); answers how many messages. Idempotent.
   *
   * @since 0.5.0
   */
  readonly failTenant: (tenant: string, reason: string) => Promise<number>
  readonly drain: (options?: { readonly timeoutMs?: number | undefined }) => Promise<Outbox.Counts>
  readonly history: (
    externalMessageId: string,
    where?: {
      /** @since 0.5.0 */
      readonly tenant?: string | undefined
      readonly provider?: string | undefined
      readonly account?: string | undefined
    }
  ) => Promise<Outbox.History | undefined>
  readonly pending: (query?: Outbox.Query) => Promise<ReadonlyArray<Outbox.Entry>>
  readonly failed: (query?: Outbox.Query) => Promise<ReadonlyArray<Outbox.Entry>>
  readonly redrive: (entries?: ReadonlyArray<Outbox.Entry>) => Promise<number>
  readonly counts: () => Promise<Outbox.Counts>
  /** Stops the worker and closes the database. Pending edits stay stored for the next start. */
  readonly close: () => Promise<void>
  readonly [Symbol.asyncDispose]: () => Promise<void>
}

const withDefaultProvider = (source: Provider.Source, name: string): Provider.Source => {
  if (source._tag === "Object") return Provider.fromObject({ provider: name, ...source.settings })
  return Provider.fromEnv({ [Provider.PROVIDER_VARIABLE]: name, ...(source.env ?? process.env) })
}

/** The keys `createOutbox` takes besides the outbox's options, and where keys of other places belong. */
const CREATE_KEYS = [
  "providers",
  "settings",
  "env",
  "providerOptions",
  "account",
  "editors",
  "transport",
  "concurrency",
  "database"
]
const HOMES: Readonly<Record<string, string>> = {
  sqlite: "database: { sqlite }",
  filename: "database",
  postgres: "database: { postgres }",
  url: "database: { postgres }",
  maxConnections: "database: { postgres, maxConnections }",
  synchronous: "database: { sqlite, synchronous }",
  timeout: "transport: { timeout }",
  maxAttempts: "retry: { maxAttempts }",
  initialDelay: "retry: { initialDelay }",
  maxDelay: "retry: { maxDelay }"
}

/** Every problem of `createOutbox`'s own options (the outbox's, the database, the account); none when fine. */
const createProblems = (options: unknown) => {
  if (!Predicate.isObject(options) || Array.isArray(options)) {
    return [{ path: "(options)", message: "must be an object with providers (or editors) and database" }]
  }
  const given = options as Partial<CreateOutboxOptions>
  const outbox = Object.fromEntries(Object.entries(options).filter(([key]) => !CREATE_KEYS.includes(key)))
  // Checked as the Effect API checks it (a function); what it answers is judged per tenant, when delivering.
  const decoded = OutboxOptions.decodeResult(
    { ...outbox, ...(given.editors === undefined ? {} : { editors: given.editors }) },
    [],
    HOMES
  )
  return [
    ...(Result.isFailure(decoded) ? decoded.failure : []),
    ...OutboxOptions.databaseProblems(given.database),
    ...(given.editors === undefined && given.providers === undefined && given.editorsFor === undefined
      ? [{ path: "providers", message: "is required (or editors, or editorsFor): the providers edits go to" }]
      : []),
    ...(given.account === undefined ? [] : OutboxOptions.accountProblems(given.account))
  ]
}

const asConfigurationError = (error: unknown): unknown =>
  Predicate.isTagged(error, "ConfigError") ? new ConfigurationError(error as Config.ConfigError) : error

const editorLayer = (options: CreateOutboxOptions) => {
  if (options.editors !== undefined) return undefined
  const raw = options.providers
  if (raw === undefined) return undefined
  const descriptors: ReadonlyArray<Provider.AnyDescriptor> = Array.isArray(raw) ? raw : [raw as Provider.AnyDescriptor]
  const base: Provider.Source =
    options.settings === undefined
      ? Provider.fromEnv(options.env ?? process.env)
      : Provider.fromObject(options.settings)
  const single = descriptors.length === 1 ? descriptors[0] : undefined
  const retry: RetryPolicy.RetryOptions = { ...options.retry, maxAttempts: 1 }
  return Provider.makeEditor(descriptors, {
    source: single === undefined ? base : withDefaultProvider(base, single.name),
    // The outbox retries itself, and must see each attempt that timed out.
    retry,
    ...(options.transport === undefined ? {} : { transport: options.transport }),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.providerOptions === undefined ? {} : { providerOptions: options.providerOptions })
  })
}

/**
 * Opens (and migrates) the database, starts the worker, and answers the outbox.
 *
 * @example
 * ```ts
 * import { Acquire } from "@reword/acquire"
 * import { createOutbox } from "@reword/outbox/promise"
 *
 * const outbox = await createOutbox({ providers: Acquire.provider, database: "reword.db" })
 * await outbox.record({ ids: { externalMessageId: "wa-881", providerMessageId: 8288 } })
 * await outbox.submit({ ids: { externalMessageId: "wa-881" }, text: "Meet at 10." })
 * await outbox.close()
 * ```
 *
 * @since 0.1.0
 */
export const createOutbox = async <const D extends Provider.AnyDescriptor = Provider.AnyDescriptor>(
  typed: CreateOutboxOptions<D>
): Promise<PromiseOutbox> => {
  const options = typed as CreateOutboxOptions
  const problems = createProblems(options)
  if (problems.length > 0) throw new ConfigurationError(OptionCheck.toConfigError(problems))
  const {
    database,
    providers: _p,
    settings: _s,
    env: _e,
    providerOptions: _o,
    account,
    editors: _r,
    transport: _t,
    concurrency: _c,
    editorsFor,
    ...rest
  } = options
  const outboxOptions: Outbox.Options = {
    ...rest,
    ...(editorsFor === undefined ? {} : { editorsFor: effectEditorsFor(editorsFor) })
  }
  const built = editorLayer(options)
  const outboxLayer = (
    editors: ReadonlyArray<Outbox.Route>
  ): Layer.Layer<Outbox.Outbox, StorageError | Config.ConfigError> => {
    const outbox = Outbox.layerWith(editors, outboxOptions)
    const spec = typeof database === "string" ? { sqlite: database } : database
    if ("sqlite" in spec) {
      // Loaded only when asked for: node:sqlite is not on every Node, and a PostgreSQL outbox never needs it.
      return Layer.unwrap(
        Effect.map(
          Effect.tryPromise({
            try: () => NodeSqlite.load(() => import("./Sqlite.ts")),
            catch: (error) =>
              OptionCheck.toConfigError([
                {
                  path: "database",
                  message:
                    error instanceof NodeSqlite.Unsupported
                      ? `is SQLite, which ${NodeSqlite.unsupportedMessage()}`
                      : `is SQLite, which could not be loaded: ${error instanceof Error ? error.message : String(error)}`
                }
              ])
          }),
          ({ sqliteClient }) =>
            outbox.pipe(Layer.provide(sqliteClient({ filename: spec.sqlite, synchronous: spec.synchronous })))
        )
      )
    }
    // Loaded only when asked for: apps on SQLite need no @effect/sql-pg.
    return Layer.unwrap(
      Effect.map(
        Effect.promise(() => import("./pg.ts")),
        ({ pgClient }) =>
          outbox.pipe(
            Layer.provide(pgClient({ url: Redacted.make(spec.postgres), maxConnections: spec.maxConnections }))
          )
      )
    )
  }
  const layer: Layer.Layer<Outbox.Outbox, unknown> =
    built === undefined
      ? outboxLayer(options.editors ?? [])
      : Layer.unwrap(Effect.map(built, (editor) => outboxLayer([{ editor, account: account ?? "default" }])))
  const runtime = ManagedRuntime.make(layer)
  const service = await runtime.runPromise(Effect.service(Outbox.Outbox)).catch(async (error: unknown) => {
    await runtime.dispose()
    throw asConfigurationError(error)
  })
  let closing: Promise<void> | undefined
  const writes = new Set<Promise<unknown>>()
  /** Runs a call; rejects with the typed error it failed with (`Closed` once the outbox is closed). */
  const run = <A, E>(effect: Effect.Effect<A, E>, write = false): Promise<A> => {
    if (closing !== undefined) return Promise.reject(closedError("this call came after close()"))
    const running = runtime.runPromiseExit(effect).then((exit) => {
      if (Exit.isSuccess(exit)) return exit.value
      throw rejectionOf(exit.cause)
    })
    if (write) {
      writes.add(running)
      const done = () => writes.delete(running)
      running.then(done, done)
    }
    return running
  }
  /** Lets the writes under way finish (bounded), then stops the worker and closes the database. */
  const close = (): Promise<void> => {
    closing ??= Promise.race([
      Promise.allSettled([...writes]),
      new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref())
    ]).then(() => runtime.dispose())
    return closing
  }
  return {
    record: (message) => run(service.record(message), true),
    recordMany: (messages) => run(Effect.map(service.recordMany(messages), settledAll), true),
    recordSent: (message, send, providerIdOf) =>
      run(service.recordSent(message, Effect.tryPromise({ try: send, catch: (error) => error }), providerIdOf), true),
    repoint: (message) => run(service.repoint(message), true),
    submit: (edit) => run(service.submit(edit), true),
    submitMany: (edits) => run(Effect.map(service.submitMany(edits), settledAll), true),
    failTenant: (tenant, reason) => run(service.failTenant(tenant, reason), true),
    drain: (drainOptions) => run(service.drain({ timeout: drainOptions?.timeoutMs })),
    history: (externalMessageId, where) => run(service.history(externalMessageId, where)),
    pending: (query) => run(service.pending(query)),
    failed: (query) => run(service.failed(query)),
    redrive: (entries) => run(service.redrive(entries), true),
    counts: () => run(service.counts),
    close,
    [Symbol.asyncDispose]: close
  }
}

/** The Effect API's `editorsFor` of one that may answer a Promise (its rejection is the tenant's failure). */
const effectEditorsFor =
  (editorsFor: EditorsFor): Outbox.EditorsFor =>
  (tenant) =>
    Effect.suspend(() => {
      const answer = editorsFor(tenant)
      return Effect.isEffect(answer)
        ? answer
        : Effect.tryPromise({ try: () => Promise.resolve(answer), catch: (error) => error })
    })

/** Each item's result, as `Promise.allSettled` shapes it. */
const settledAll = <A>(results: ReadonlyArray<Result.Result<A, Error>>): Array<Settled<A>> =>
  results.map((result) =>
    Result.isSuccess(result)
      ? { status: "fulfilled", value: result.success }
      : { status: "rejected", reason: result.failure }
  )

/** How long `close()` lets the writes under way (submits, records, re-drives) finish. */
const CLOSE_GRACE_MS = 5_000

const closedError = (why: string) =>
  new StorageError({ problem: "Closed", description: `${why}: create the outbox again to go on` })

/** The error a failed call rejects with: its typed failure, `Closed` when interrupted by `close()`, or the defect. */
const rejectionOf = (cause: Cause.Cause<unknown>): unknown => {
  const failure = Cause.findErrorOption(cause)
  if (Option.isSome(failure)) return asConfigurationError(failure.value)
  if (Cause.hasInterruptsOnly(cause)) {
    return closedError("the outbox was closed before this call finished (a submit cut short was not acknowledged)")
  }
  const defect = Cause.squash(cause)
  return defect instanceof Error ? defect : new Error(`reword outbox: an unexpected failure: ${String(defect)}`)
}
