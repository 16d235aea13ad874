/**
 * What the journal's reads take (`pending`, `failed`, `stream`, `totals`), as
 * ONE Schema, decoded once at the edge: the provider and account as core
 * checks an id, `olderThan` a duration, `limit` a number (a page holds 1 to
 * 10,000 entries), `after` an entry of a previous page (only the fields that
 * name its message are read: an entry holds more). An unknown key is refused
 * with a "did you mean"; anything wrong is an `InvalidRequest` naming every
 * field, for this call alone.
 */
import { EditError, EditRequest } from "@reword/core"
import { OptionCheck } from "@reword/core/adapter"
import { Duration, Effect, Predicate, Result, Schema, SchemaParser } from "effect"
import type { Query, TotalsQuery } from "./model.ts"
import { fromCheck, unknownKeys } from "./options.ts"
import type { SeriesQuery } from "./series.ts"

/** `olderThan`: a duration of zero or more (`"1 hour"`, milliseconds, a `Duration`), as the options' are checked. */
const OlderThan = Schema.Unknown.check(
  fromCheck((value) => OptionCheck.duration("", value, { minMillis: 0, maxMillis: Number.MAX_SAFE_INTEGER }))
)

/** The entry a page ends with: the fields that name its message. */
const After = Schema.Struct({
  tenant: Schema.optional(Schema.String),
  provider: Schema.String,
  account: Schema.String,
  ids: Schema.Struct({ externalMessageId: Schema.String })
})

/** Which messages `pending`, `failed` and `stream` list. */
const QuerySchema = Schema.Struct({
  tenant: Schema.optional(EditRequest.Id),
  provider: Schema.optional(EditRequest.Id),
  account: Schema.optional(EditRequest.Id),
  olderThan: Schema.optional(OlderThan),
  limit: Schema.optional(Schema.Finite),
  after: Schema.optional(After)
})

const QUERY_KEYS = ["tenant", "provider", "account", "olderThan", "limit", "after"] as const
const TOTALS_KEYS = ["tenant", "provider", "account", "olderThan"] as const

/** A decoded query: `olderThan` in milliseconds, the page's size. */
export interface DecodedQuery {
  readonly tenant: string | undefined
  readonly provider: string | undefined
  readonly account: string | undefined
  readonly olderThanMillis: number | undefined
  readonly limit: number
  readonly after:
    | {
        readonly tenant?: string | undefined
        readonly provider: string
        readonly account: string
        readonly externalMessageId: string
      }
    | undefined
}

const decodeQuerySchema = SchemaParser.decodeUnknownResult(QuerySchema, { errors: "all" })

/** A listing's page: the query's limit, from 1 to 10,000 (100 when none). */
const pageSize = (limit: number | undefined): number => Math.max(1, Math.min(10_000, Math.floor(limit ?? 100)))

const refused = (problems: ReadonlyArray<EditError.Problem>) =>
  new EditError.EditError({
    provider: "outbox",
    operation: "get",
    reason: new EditError.InvalidRequest({ problems: [...problems] })
  })

const decodeWith = (
  input: unknown,
  keys: ReadonlyArray<string>
): Result.Result<DecodedQuery, ReadonlyArray<EditError.Problem>> => {
  if (input === undefined) input = {}
  if (!Predicate.isObject(input) || Array.isArray(input)) {
    return Result.fail([{ path: "(query)", message: `must be an object: { ${keys.join(", ")} }` }])
  }
  const decoded = decodeQuerySchema(input)
  const problems = [
    ...unknownKeys(input, keys, {}, "field"),
    ...(Result.isFailure(decoded) ? EditRequest.problemsOf(decoded.failure) : [])
  ]
  if (problems.length > 0 || Result.isFailure(decoded)) return Result.fail(problems)
  const query = decoded.success
  return Result.succeed({
    tenant: query.tenant,
    provider: query.provider,
    account: query.account,
    olderThanMillis:
      query.olderThan === undefined
        ? undefined
        : Duration.toMillis(Duration.fromInputUnsafe(query.olderThan as Duration.Input)),
    limit: pageSize(query.limit),
    after:
      query.after === undefined
        ? undefined
        : {
            tenant: query.after.tenant,
            provider: query.after.provider,
            account: query.after.account,
            externalMessageId: query.after.ids.externalMessageId
          }
  })
}

/** Decodes what `pending`, `failed` and `stream` take, or fails with the `InvalidRequest` naming every field. */
export const decodeQuery = (input: Query | undefined): Effect.Effect<DecodedQuery, EditError.EditError> =>
  Effect.suspend(() => Effect.fromResult(Result.mapError(decodeWith(input, QUERY_KEYS), refused)))

/** Decodes what `totals` takes (a query without paging), or fails with the `InvalidRequest` naming every field. */
export const decodeTotalsQuery = (input: TotalsQuery | undefined): Effect.Effect<DecodedQuery, EditError.EditError> =>
  Effect.suspend(() => Effect.fromResult(Result.mapError(decodeWith(input, TOTALS_KEYS), refused)))

/** `window`: a duration of more than zero. */
const Window = Schema.Unknown.check(
  fromCheck((value) =>
    OptionCheck.duration("", value, { minMillis: 0, exclusiveMin: true, maxMillis: Number.MAX_SAFE_INTEGER })
  )
)

/** Which backlog `series` draws: its window, how many instants, and whose messages. */
const SeriesSchema = Schema.Struct({
  window: Window,
  steps: Schema.optional(Schema.Finite),
  provider: Schema.optional(EditRequest.Id),
  account: Schema.optional(EditRequest.Id)
})

const SERIES_KEYS = ["window", "steps", "provider", "account"] as const

const decodeSeriesSchema = SchemaParser.decodeUnknownResult(SeriesSchema, { errors: "all" })

/** Decodes what `series` takes, or fails with the `InvalidRequest` naming every field. */
export const decodeSeriesQuery = (input: SeriesQuery): Effect.Effect<SeriesQuery, EditError.EditError> =>
  Effect.suspend(() => {
    if (!Predicate.isObject(input) || Array.isArray(input)) {
      return Effect.fail(refused([{ path: "(query)", message: `must be an object: { ${SERIES_KEYS.join(", ")} }` }]))
    }
    const decoded = decodeSeriesSchema(input)
    const problems = [
      ...unknownKeys(input, SERIES_KEYS, {}, "field"),
      ...(Result.isFailure(decoded) ? EditRequest.problemsOf(decoded.failure) : [])
    ]
    return problems.length > 0 || Result.isFailure(decoded)
      ? Effect.fail(refused(problems))
      : Effect.succeed(decoded.success as SeriesQuery)
  })
