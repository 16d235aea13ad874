/**
 * The outbox's options as ONE Schema, with their ranges and defaults, decoded
 * once where the outbox is built (`make`, `makeWith`, `makeJournal`,
 * `createOutbox`): the code behind it takes the decoded {@link Settings} and
 * never checks again. Every problem is a configuration error naming the field
 * (`Invalid option: batchSize must be an integer from 1 to 1000 (got NaN)`);
 * an unknown key is refused with a "did you mean".
 *
 * Helpers adding an option: add its field to {@link fields} (check and default),
 * its public type and TSDoc to `model.ts`'s `Options`, and read it from
 * {@link Settings}.
 */
import { type EditError, EditRequest, type MessageEditor } from "@reword/core"
import { OptionCheck, ProviderKit, RetryPolicy } from "@reword/core/adapter"
import {
  type Config,
  Duration,
  Effect,
  Predicate,
  Redacted,
  Result,
  Schema,
  type SchemaIssue,
  SchemaParser,
  SchemaTransformation
} from "effect"
import type { EditorsFor, Options } from "./model.ts"

type Problem = EditError.Problem

/** The most messages one worker claims at once: every claim statement stays far below SQLite's 32,766 variables. */
export const MAX_BATCH_SIZE = 1_000

/** A filter from one of core's option checks (which answer problems with dotted paths under `""`). */
export const fromCheck = <T>(check: (value: unknown) => ReadonlyArray<Problem>) =>
  Schema.makeFilter<T>((value) =>
    check(value).map((problem) =>
      problem.path === "" ? problem.message : { path: problem.path.split("."), issue: problem.message }
    )
  )

/** A duration option, decoded to its milliseconds, within bounds. */
const durationMillis = (bounds: Parameters<typeof OptionCheck.duration>[2], fallback: Duration.Input) =>
  Schema.Unknown.check(fromCheck((value) => OptionCheck.duration("", value, bounds)))
    .pipe(
      Schema.decodeTo(
        Schema.Number,
        SchemaTransformation.transform({
          decode: (value) => Duration.toMillis(Duration.fromInputUnsafe(value as Duration.Input)),
          encode: (millis) => millis
        })
      )
    )
    .pipe(Schema.withDecodingDefault(Effect.succeed(fallback)))

const isEditor = (value: unknown): value is MessageEditor.Service =>
  Predicate.isObject(value) &&
  typeof (value as { provider?: unknown }).provider === "string" &&
  typeof (value as { updateMany?: unknown }).updateMany === "function"

/** One route: an editor (a `MessageEditor` service) and the account it edits in. */
const Route = Schema.Struct({
  editor: Schema.declare(isEditor, {
    message: "must be a MessageEditor service (an editor with a provider and updateMany)"
  }),
  account: Schema.optional(EditRequest.Id)
})

const routeKey = (route: { readonly editor: MessageEditor.Service; readonly account?: string | undefined }) =>
  `${route.editor.provider} account ${JSON.stringify(route.account ?? "default")}`

const Routes = Schema.Array(Route).check(
  Schema.makeFilter((routes) => (routes.length === 0 ? "must hold at least one editor" : undefined)),
  Schema.makeFilter((routes) => {
    const seen = new Set<string>()
    for (const route of routes) {
      const key = routeKey(route)
      if (seen.has(key)) return `must hold one editor per provider and account (${key} is given twice)`
      seen.add(key)
    }
    return undefined
  })
)

/** Table prefixes: lowercase letters, digits and `_`, as table names hold them unquoted everywhere. */
export const TablePrefix = Schema.String.check(
  Schema.isPattern(/^[a-z_][a-z0-9_]{0,40}$/, {
    message: "must be lowercase letters, digits and _, starting with a letter or _, at most 41 characters"
  })
)

/** Every option of the outbox: its check and its default. */
export const fields = {
  editors: Schema.optional(Routes),
  editorsFor: Schema.optional(
    Schema.declare((value: unknown): value is EditorsFor => typeof value === "function", {
      message: "must be a function: (tenant) => an Effect of the tenant's editor (or routes)"
    })
  ),
  tablePrefix: TablePrefix.pipe(Schema.withDecodingDefault(Effect.succeed("reword_outbox_"))),
  keepText: Schema.Boolean.pipe(Schema.withDecodingDefault(Effect.succeed(true))),
  unknownMessages: Schema.Literals(["reject", "record"]).pipe(
    Schema.withDecodingDefault(Effect.succeed<"reject" | "record">("reject"))
  ),
  settleWindow: durationMillis({ minMillis: 0 }, "30 seconds"),
  retry: Schema.Unknown.check(fromCheck((value) => RetryPolicy.validate(value as RetryPolicy.RetryOptions, ""))).pipe(
    Schema.withDecodingDefault(Effect.succeed({}))
  ),
  batchSize: Schema.Unknown.check(
    fromCheck((value) => OptionCheck.integer("", value, { min: 1, max: MAX_BATCH_SIZE }))
  ).pipe(Schema.withDecodingDefault(Effect.succeed(100))),
  lease: durationMillis({ minMillis: 100 }, "5 minutes"),
  pollInterval: durationMillis({ minMillis: 10, maxMillis: 3_600_000 }, "1 second"),
  shutdownGrace: durationMillis({ minMillis: 0, maxMillis: 3_600_000 }, "5 seconds"),
  notify: Schema.Boolean.pipe(Schema.withDecodingDefault(Effect.succeed(true))),
  worker: Schema.Boolean.pipe(Schema.withDecodingDefault(Effect.succeed(true))),
  workerId: Schema.optional(
    EditRequest.Id.check(Schema.isMaxLength(128, { message: "must be at most 128 characters" }))
  ),
  textHashKey: Schema.optional(
    // Messages never quote the value: it is a secret, even when given in the clear by mistake.
    Schema.declare((value: unknown): value is Redacted.Redacted<string> => Redacted.isRedacted(value), {
      message: "must be a Redacted secret (Redacted.make(key)), never a plain value"
    }).check(
      Schema.makeFilter((key) => {
        const value: unknown = Redacted.value(key)
        return typeof value === "string" && value.length >= MIN_TEXT_HASH_KEY_LENGTH
          ? undefined
          : `must be a text of at least ${MIN_TEXT_HASH_KEY_LENGTH} characters`
      })
    )
  )
} satisfies Record<keyof Options, Schema.Top>

/** The shortest `textHashKey`: a short key is guessed as easily as a short text. */
export const MIN_TEXT_HASH_KEY_LENGTH = 16

/**
 * The outbox's options.
 *
 * @since 0.2.0
 */
export const OptionsSchema = Schema.Struct(fields)

/** The options as the outbox uses them: checked, with their defaults, durations in milliseconds. */
export interface Settings {
  readonly editors:
    | ReadonlyArray<{ readonly editor: MessageEditor.Service; readonly account?: string | undefined }>
    | undefined
  readonly editorsFor: EditorsFor | undefined
  readonly tablePrefix: string
  readonly keepText: boolean
  readonly unknownMessages: "reject" | "record"
  readonly settleMs: number
  readonly retry: RetryPolicy.RetryOptions
  readonly batchSize: number
  readonly leaseMs: number
  readonly pollMs: number
  readonly shutdownGraceMs: number
  readonly notify: boolean
  readonly worker: boolean
  readonly workerId: string | undefined
  readonly textHashKey: Redacted.Redacted<string> | undefined
}

const decodeOptions = SchemaParser.decodeUnknownResult(OptionsSchema, { errors: "all" })

/**
 * The problems of keys no field declares: `Unknown option "leese" (did you mean lease?)`.
 * `homes` says where a key known elsewhere belongs.
 */
export const unknownKeys = (
  value: object,
  known: ReadonlyArray<string>,
  homes: Readonly<Record<string, string>> = {},
  noun = "option"
): ReadonlyArray<Problem> =>
  Object.keys(value)
    .filter((key) => !known.includes(key))
    .map((key) => {
      const home = Object.hasOwn(homes, key) ? homes[key] : undefined
      const near = ProviderKit.nearest(key, known)
      const hint = home !== undefined ? `: it belongs in ${home}` : near === undefined ? "" : ` (did you mean ${near}?)`
      const article = /^[aeiou]/.test(noun) ? "an" : "a"
      return { path: key, message: `is not ${article} ${noun}${hint}; the known ${noun}s are ${known.join(", ")}` }
    })

/** The problems of a Schema's failure, as core names them (`batchSize: must be ...`). */
export const problemsOf = EditRequest.problemsOf

const settingsOf = (decoded: typeof OptionsSchema.Type): Settings => ({
  editors: decoded.editors,
  editorsFor: decoded.editorsFor,
  tablePrefix: decoded.tablePrefix,
  keepText: decoded.keepText,
  unknownMessages: decoded.unknownMessages,
  settleMs: decoded.settleWindow,
  retry: decoded.retry as RetryPolicy.RetryOptions,
  batchSize: decoded.batchSize as number,
  leaseMs: decoded.lease,
  pollMs: decoded.pollInterval,
  shutdownGraceMs: decoded.shutdownGrace,
  notify: decoded.notify,
  worker: decoded.worker,
  workerId: decoded.workerId,
  textHashKey: decoded.textHashKey
})

/** Without its text, an edit's hash must be keyed: an unkeyed SHA-256 of a short text is reversed by a dictionary. */
const keyProblems = (decoded: typeof OptionsSchema.Type): ReadonlyArray<Problem> =>
  decoded.keepText || decoded.textHashKey !== undefined
    ? []
    : [
        {
          path: "textHashKey",
          message:
            "is required when keepText is false: a secret (Redacted.make(key), at least 16 characters) that keys the hash the journal keeps of each text"
        }
      ]

/**
 * Decodes the outbox's options, or the problems found (every one). `extraKeys`
 * are keys another edge (`createOutbox`) takes and checks itself.
 */
export const decodeResult = (
  options: unknown,
  extraKeys: ReadonlyArray<string> = [],
  homes: Readonly<Record<string, string>> = {}
): Result.Result<Settings, ReadonlyArray<Problem>> => {
  if (options === undefined) options = {}
  if (!Predicate.isObject(options) || Array.isArray(options)) {
    return Result.fail([{ path: "(options)", message: "must be an object of outbox options" }])
  }
  const known = Object.keys(fields)
  const unknown = unknownKeys(options, [...known, ...extraKeys], homes)
  const own = Object.fromEntries(Object.entries(options).filter(([key]) => known.includes(key)))
  const decoded = decodeOptions(own)
  const problems = [
    ...unknown,
    ...(Result.isFailure(decoded) ? problemsOf(decoded.failure) : keyProblems(decoded.success))
  ]
  if (problems.length > 0 || Result.isFailure(decoded)) return Result.fail(problems)
  return Result.succeed(settingsOf(decoded.success))
}

/** {@link decodeResult} as an Effect failing with a configuration error naming every problem. */
export const decode = (options: unknown): Effect.Effect<Settings, Config.ConfigError> => {
  const result = decodeResult(options)
  return Result.isSuccess(result)
    ? Effect.succeed(result.success)
    : Effect.fail(OptionCheck.toConfigError(result.failure))
}

const decodeJournalOptions = SchemaParser.decodeUnknownResult(Schema.Struct({ tablePrefix: fields.tablePrefix }), {
  errors: "all"
})

/** The table prefix of a tool's options (`makeJournal`, which takes no other), checked as the outbox checks it. */
export const decodePrefix = (options: unknown): Effect.Effect<string, Config.ConfigError> => {
  const given = options ?? {}
  if (!Predicate.isObject(given) || Array.isArray(given)) {
    return Effect.fail(OptionCheck.toConfigError([{ path: "(options)", message: "must be an object" }]))
  }
  const decoded = decodeJournalOptions(given)
  const problems = [
    ...unknownKeys(given, ["tablePrefix"]),
    ...(Result.isFailure(decoded) ? problemsOf(decoded.failure) : [])
  ]
  return problems.length > 0 || Result.isFailure(decoded)
    ? Effect.fail(OptionCheck.toConfigError(problems))
    : Effect.succeed(decoded.success.tablePrefix)
}

/** The routes `makeWith` is given, checked as the `editors` option. */
export const decodeRoutes = (
  routes: unknown
): Result.Result<ReadonlyArray<Schema.Schema.Type<typeof Route>>, ReadonlyArray<Problem>> => {
  const decoded = decodeRoutesResult(routes)
  return Result.isSuccess(decoded)
    ? Result.succeed(decoded.success)
    : Result.fail(
        problemsOf(decoded.failure).map((p) => ({
          ...p,
          path: p.path === "(request)" ? "editors" : `editors.${p.path}`
        }))
      )
}

const decodeRoutesResult = SchemaParser.decodeUnknownResult(Routes, { errors: "all" })

/** A SQLite file path (or `:memory:`): non-empty text a file name can hold. */
const FilePath = EditRequest.Label.check(Schema.isMinLength(1, { message: "must not be empty" }))

const SqliteDatabase = Schema.Struct({
  sqlite: FilePath,
  synchronous: Schema.optional(Schema.Literals(["FULL", "NORMAL"]))
})

const PostgresDatabase = Schema.Struct({
  postgres: Schema.String.check(Schema.isPattern(/^postgres(ql)?:\/\/\S+$/i, { message: "must be a postgres:// URL" })),
  maxConnections: Schema.optional(
    Schema.Unknown.check(fromCheck((value) => OptionCheck.integer("", value, { min: 2, max: 1_000 })))
  )
})

const decodeSqlite = SchemaParser.decodeUnknownResult(SqliteDatabase, { errors: "all" })
const decodePostgres = SchemaParser.decodeUnknownResult(PostgresDatabase, { errors: "all" })
const decodeFilePath = SchemaParser.decodeUnknownResult(FilePath)

const under = (prefix: string, problems: ReadonlyArray<Problem>): ReadonlyArray<Problem> =>
  problems.map((p) => ({ ...p, path: p.path === "(request)" ? prefix : `${prefix}.${p.path}` }))

/**
 * The problems of `createOutbox`'s `database`: a SQLite path, `{ sqlite, synchronous? }`,
 * or `{ postgres, maxConnections? }` (a pool of at least 2: the worker and the submits
 * each hold one at times).
 */
export const databaseProblems = (database: unknown): ReadonlyArray<Problem> => {
  if (database === undefined) {
    return [{ path: "database", message: "is required: a SQLite file path, { sqlite }, or { postgres: URL }" }]
  }
  if (typeof database === "string") {
    const decoded = decodeFilePath(database)
    return Result.isFailure(decoded) ? under("database", problemsOf(decoded.failure)) : []
  }
  if (!Predicate.isObject(database) || Array.isArray(database)) {
    return [{ path: "database", message: "must be a SQLite file path, { sqlite }, or { postgres: URL }" }]
  }
  const postgres = "postgres" in database
  const keys = postgres ? ["postgres", "maxConnections"] : ["sqlite", "synchronous"]
  const decoded: Result.Result<unknown, SchemaIssue.Issue> = postgres
    ? decodePostgres(database)
    : decodeSqlite(database)
  return [
    ...under("database", unknownKeys(database, keys)),
    ...(Result.isFailure(decoded) ? under("database", problemsOf(decoded.failure)) : [])
  ]
}

const decodeAccount = SchemaParser.decodeUnknownResult(EditRequest.Id)

/** The problems of an account label (`createOutbox`'s `account`). */
export const accountProblems = (account: unknown): ReadonlyArray<Problem> => {
  const decoded = decodeAccount(account)
  return Result.isFailure(decoded) ? under("account", problemsOf(decoded.failure)) : []
}
