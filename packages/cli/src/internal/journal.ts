/**
 * What `reword history` and `reword outbox` share: the flags that name the
 * outbox's database (a SQLite file, or a PostgreSQL URL: a secret, scrubbed
 * from every line), opening its journal, and reporting a database that cannot
 * be used. `@reword/outbox` is loaded only when one of these commands runs
 * (it needs Node's `node:sqlite`).
 */
import { existsSync, statSync } from "node:fs"
import type { Outbox, OutboxError } from "@reword/outbox"
import { type Context, Effect, Layer, Option, Redacted, type Scope } from "effect"
import { Flag } from "effect/cli"
import type { SqlClient } from "effect/sql"
import { CommandFailed, ExitCode } from "./exit.ts"
import type { HelpSection } from "./help.ts"
import * as OutboxModule from "./outboxModule.ts"
import type * as Output from "./output.ts"
import type * as Providers from "./providers.ts"
import { secretsIn } from "./settings.ts"

/** The variable naming the outbox's database. */
export const DATABASE_VARIABLE = "REWORD_OUTBOX_DATABASE"
/** The variable naming the outbox's table prefix. */
export const TABLE_PREFIX_VARIABLE = "REWORD_OUTBOX_TABLE_PREFIX"

/** The flags every outbox command takes. */
export const flags = {
  database: Flag.Redacted("database").pipe(
    Flag.withDescription(
      `The outbox's database: a SQLite file (made by the app's outbox), or a PostgreSQL URL (postgres://user:password@host/db, a secret: prefer ${DATABASE_VARIABLE}). Overrides ${DATABASE_VARIABLE}.`
    ),
    Flag.withMetavar("file|url"),
    Flag.optional
  ),
  tablePrefix: Flag.String("table-prefix").pipe(
    Flag.withDescription(
      `The prefix of the outbox's tables (default reword_outbox_). Overrides ${TABLE_PREFIX_VARIABLE}.`
    ),
    Flag.withMetavar("prefix"),
    Flag.optional
  ),
  tenant: Flag.String("tenant").pipe(
    Flag.withDescription(
      "Only messages of this tenant (one installation: a Bitrix24 portal's member_id, an Acquire account; default is a single-tenant app's)."
    ),
    Flag.withMetavar("id"),
    Flag.optional
  ),
  provider: Flag.String("provider").pipe(
    Flag.withDescription("Only messages of this provider (bitrix24, acquire)."),
    Flag.withMetavar("name"),
    Flag.optional
  ),
  account: Flag.String("account").pipe(
    Flag.withDescription(
      "Only messages of this account (as the app labels it: a portal/connector/line, an account id)."
    ),
    Flag.withMetavar("label"),
    Flag.optional
  ),
  json: Flag.Boolean("json").pipe(
    Flag.withDescription("Prints one JSON object on stdout and nothing else."),
    Flag.withDefault(false)
  )
} as const

/** The help section on the database settings. */
export const databaseSection: HelpSection = {
  title: "DATABASE",
  lines: [
    `${DATABASE_VARIABLE}      the outbox's database: a SQLite file, or a PostgreSQL URL (--database overrides it)`,
    `${TABLE_PREFIX_VARIABLE}  the prefix of its tables, when the app set one (--table-prefix overrides it)`,
    "The database is the one the app's outbox (@reword/outbox) writes: a SQLite file is never created here.",
    "A PostgreSQL URL is a secret: it (and its password) never shows in the output. PostgreSQL needs",
    "@effect/sql-pg installed next to reword."
  ]
}

/** The tenant as printed: `default` when an entry or total names none. */
export const tenantOf = (item: { readonly tenant?: string | undefined }): string => item.tenant ?? "default"

/** `tenant/provider/account` as a line prints them: the tenant only when it is not `default`. */
export const routeText = (item: {
  readonly tenant?: string | undefined
  readonly provider: string
  readonly account: string
}): string => `${item.tenant === undefined ? "" : `tenant ${item.tenant} `}${item.provider} ${item.account}`

/** The failure JSON of these commands. */
export const errorJson = (operation: string, reason: string, message: string, extra: object = {}) => ({
  error: { provider: null, operation, reason, message, retryable: false, ...extra }
})

/** Prints a failure (stderr, and JSON with --json) and fails with its exit code. */
export const fail = (
  output: Output.Output,
  operation: string,
  failure: {
    readonly reason: string
    readonly message: string
    readonly hint?: string | undefined
    readonly exitCode: ExitCode
    readonly extra?: object
  }
): Effect.Effect<never, CommandFailed> =>
  Effect.gen(function* () {
    if (output.json) yield* output.outJson(errorJson(operation, failure.reason, failure.message, failure.extra))
    yield* output.err(`error: ${failure.message}`)
    if (failure.hint !== undefined) yield* output.err(`hint: ${failure.hint}`)
    return yield* new CommandFailed({ exitCode: failure.exitCode, summary: failure.message })
  })

const hintOf: Record<OutboxError.StorageError["problem"], string> = {
  Corrupt: "this file is not an outbox database (or it is damaged): check --database",
  Foreign:
    "this database belongs to another application, or the tables use another prefix: check --database and --table-prefix",
  NewerSchema: "a newer @reword/outbox wrote this database: upgrade reword",
  ReadOnly: "the database refuses writes: check its permissions (and the PostgreSQL role)",
  Full: "the disk or the database is full",
  Unavailable: "the database cannot be reached, or another process holds its lock: try again",
  Missing: "no such database: check --database (the file's directory, or the PostgreSQL database name)",
  Denied: "the database refused the credentials or the permission: check the user and its grants",
  Conflict: "concurrent transactions kept colliding: try again",
  Closed: "the outbox was closed",
  Failed: "check the database"
}

/** Prints a storage failure: exit 2 when the database named is not one to use, 3 when it failed. */
export const storageFailure = (output: Output.Output, operation: string, error: OutboxError.StorageError) =>
  fail(output, operation, {
    reason: "Storage",
    message: error.message,
    hint: hintOf[error.problem],
    exitCode:
      error.problem === "Corrupt" ||
      error.problem === "Foreign" ||
      error.problem === "NewerSchema" ||
      error.problem === "Missing"
        ? ExitCode.BadInput
        : ExitCode.ProviderFailure,
    extra: { problem: error.problem }
  })

const isPostgres = (location: string) => /^postgres(ql)?:\/\//i.test(location)

/** The secrets a PostgreSQL URL holds: the URL itself, and its password in every form it may be printed. */
const urlSecrets = (url: string): ReadonlyArray<Redacted.Redacted<string>> => {
  const secrets = [Redacted.make(url)]
  try {
    const password = new URL(url).password
    if (password.length > 0) secrets.push(Redacted.make(password), Redacted.make(decodeURIComponent(password)))
  } catch {
    // Not a URL the WHATWG parser reads: the whole value is still scrubbed.
  }
  return secrets
}

/** The flags that name the database. */
export interface DatabaseFlags {
  readonly database: Option.Option<Redacted.Redacted<string>>
  readonly tablePrefix: Option.Option<string>
}

/** The outbox's database the flags (or the environment) name, if any. */
export const locationOf = (
  env: Readonly<Record<string, string | undefined>>,
  database: Option.Option<Redacted.Redacted<string>>
): string | undefined => {
  const fromEnv = env[DATABASE_VARIABLE]?.trim()
  return Option.isSome(database)
    ? Redacted.value(database.value).trim()
    : fromEnv === undefined || fromEnv === ""
      ? undefined
      : fromEnv
}

/** What {@link connect} answers: the database's `SqlClient` and the table prefix. */
export interface Connection {
  readonly context: Context.Context<SqlClient.SqlClient>
  readonly tablePrefix: string | undefined
}

/**
 * Opens the database the flags (or the environment) name, in the scope: a
 * SQLite file read-only when `access` is `read` (no byte of it changes).
 * Every provider secret of the environment, and the database URL, join the
 * output's secrets first.
 */
export const connect = (
  resolved: Providers.Resolved,
  output: Output.Output,
  operation: string,
  input: DatabaseFlags,
  access: "read" | "write" = "write"
): Effect.Effect<Connection, CommandFailed, Scope.Scope> =>
  Effect.gen(function* () {
    const env = resolved.env()
    output.addSecrets(secretsIn(env, resolved.providers))
    const location = locationOf(env, input.database)
    if (location === undefined) {
      return yield* fail(output, operation, {
        reason: "Usage",
        message: `name the outbox's database: --database <file|url>, or ${DATABASE_VARIABLE}`,
        exitCode: ExitCode.BadInput
      })
    }
    const tablePrefix = Option.getOrUndefined(input.tablePrefix) ?? env[TABLE_PREFIX_VARIABLE] ?? undefined
    if (tablePrefix !== undefined && !/^[a-z_][a-z0-9_]{0,40}$/.test(tablePrefix)) {
      return yield* fail(output, operation, {
        reason: "Usage",
        message: "--table-prefix must be lowercase letters, digits and _, at most 41 characters",
        exitCode: ExitCode.BadInput
      })
    }
    const postgres = isPostgres(location)
    if (postgres) output.addSecrets(urlSecrets(location))
    else if (location !== ":memory:" && !existsSync(location)) {
      return yield* fail(output, operation, {
        reason: "Usage",
        message: `no outbox database at ${location}`,
        hint: "name the SQLite file the app's outbox writes (it is never created here)",
        exitCode: ExitCode.BadInput
      })
    } else if (location !== ":memory:" && isDirectory(location)) {
      return yield* fail(output, operation, {
        reason: "Usage",
        message: `${location} is a directory, not an outbox database`,
        hint: "name the SQLite file the app's outbox writes, inside it",
        exitCode: ExitCode.BadInput
      })
    }
    yield* nodeCheck(output, operation)
    const client = yield* Effect.tryPromise({
      try: async () => {
        if (!postgres) {
          return (await OutboxModule.load()).sqliteClient({ filename: location, readOnly: access === "read" })
        }
        const { pgClient } = await import("@reword/outbox/pg")
        return pgClient({ url: Redacted.make(location), maxConnections: 2 })
      },
      catch: () => undefined
    }).pipe(
      Effect.catch(() =>
        fail(output, operation, {
          reason: "Configuration",
          message: postgres
            ? "PostgreSQL needs @effect/sql-pg: install it next to reword"
            : "SQLite could not be loaded: reword needs the node:sqlite built into Node",
          exitCode: ExitCode.BadInput
        })
      )
    )
    const context = yield* Layer.build(client).pipe(
      Effect.catchTag("StorageError", (error) => storageFailure(output, operation, error))
    )
    return { context, tablePrefix }
  })

/** Fails, saying the version needed, on a Node without the node:sqlite the outbox is built on. */
const nodeCheck = (output: Output.Output, operation: string): Effect.Effect<void, CommandFailed> => {
  const tooOld = OutboxModule.unsupported()
  if (tooOld === undefined) return Effect.void
  return fail(output, operation, {
    reason: "Configuration",
    message: tooOld,
    hint: `run reword on Node ${OutboxModule.MINIMUM_NODE} or later`,
    exitCode: ExitCode.BadInput
  })
}

/** The operations that write to the journal: a re-drive, from the command or the dashboard's page. */
const WRITING_OPERATIONS: ReadonlySet<string> = new Set(["redrive", "dashboard"])

/**
 * Opens the journal of the database the flags (or the environment) name, in
 * the scope (see {@link connect}): read-only, unless the operation re-drives; a
 * database without the outbox's tables is refused (nothing is created nor
 * migrated here). A re-drive checks a SQLite file read-only first: no byte of
 * a file that is not an outbox changes (opening one for writing switches it to WAL).
 */
export const open = (
  resolved: Providers.Resolved,
  output: Output.Output,
  operation: string,
  input: DatabaseFlags
): Effect.Effect<Outbox.Journal, CommandFailed, Scope.Scope> =>
  Effect.gen(function* () {
    yield* nodeCheck(output, operation)
    const { Outbox } = yield* Effect.promise(OutboxModule.load)
    const journalOn = (access: "read" | "write") =>
      Effect.flatMap(connect(resolved, output, operation, input, access), ({ context, tablePrefix }) =>
        Effect.provide(Outbox.makeJournal({ tablePrefix }), context).pipe(
          Effect.catchTag("StorageError", (error) => storageFailure(output, operation, error)),
          Effect.catchTag("ConfigError", (error) =>
            fail(output, operation, { reason: "Configuration", message: error.message, exitCode: ExitCode.BadInput })
          )
        )
      )
    if (!WRITING_OPERATIONS.has(operation)) return yield* journalOn("read")
    yield* Effect.scoped(journalOn("read"))
    return yield* journalOn("write")
  })

const isDirectory = (location: string): boolean => {
  try {
    return statSync(location).isDirectory()
  } catch {
    return false
  }
}

/** A date as printed: ISO 8601, in UTC. */
export const at = (date: Date | undefined): string => (date === undefined ? "-" : date.toISOString())

/** How long ago, roughly: `42 s`, `5 min`, `3 h`, `2 d`. */
export const ago = (date: Date, now: number): string => {
  const seconds = Math.max(0, Math.round((now - date.getTime()) / 1_000))
  if (seconds < 120) return `${seconds} s`
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min`
  if (seconds < 172_800) return `${Math.round(seconds / 3_600)} h`
  return `${Math.round(seconds / 86_400)} d`
}

/**
 * Who holds a message's claim and until when, as printed (`undefined` when no
 * worker holds it): a live claim is a delivery in flight; one that ran out was
 * left by a worker that stopped.
 */
export const claimText = (
  claim: { readonly worker: string; readonly until: Date } | undefined,
  now: number
): string | undefined => {
  if (claim === undefined) return undefined
  const until = claim.until.getTime()
  return until > now
    ? `claimed by ${claim.worker} until ${at(claim.until)} (in ${ago(new Date(now), until)}: it is delivering the message)`
    : `claim left by ${claim.worker}, ran out at ${at(claim.until)} (${ago(claim.until, now)} ago: that worker stopped; the next worker takes the message over)`
}
