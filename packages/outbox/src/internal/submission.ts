/**
 * What an app writes to the outbox, as ONE Schema per input, decoded once at
 * the edge (`submit`, `record`, `repoint`): a {@link Submission} (core's
 * `EditRequest` for the request part, plus where it goes and who asked) and a
 * {@link Recorded} message. Every field is checked as core checks a request
 * (well-formed Unicode, no control characters in ids and labels, sizes, types),
 * and a text must hold no NUL (U+0000: PostgreSQL cannot store it). Unknown
 * fields are refused with a "did you mean". Anything wrong is an
 * `InvalidRequest` naming every field, for this call alone.
 */
import { EditError, EditRequest } from "@reword/core"
import { Predicate, Result, Schema, SchemaParser } from "effect"
import { unknownKeys } from "./options.ts"

type Problem = EditError.Problem

const REQUEST_KEYS = [
  "ids",
  "text",
  "files",
  "author",
  "chat",
  "language",
  "editedAt",
  "sentAt",
  "kind",
  "editCount",
  "sentBy",
  "fallback"
] as const
const ROUTE_KEYS = ["tenant", "provider", "account"] as const
const ID_KEYS = [
  "externalMessageId",
  "externalChatId",
  "externalAuthorId",
  "providerMessageId",
  "providerChatId",
  "providerConnectionId"
] as const

/** A provider or account label: an id as core checks one. */
const Label = EditRequest.Id

/** Who asked for an edit: a short label (`customer`, `agent`, `cli`). */
const Source = EditRequest.Label.check(
  Schema.isMinLength(1, { message: "must not be empty" }),
  Schema.isMaxLength(64, { message: "must be at most 64 characters" })
)

/** Where a call goes and who made it: the outbox's own fields of a submission. */
const SubmissionRoute = Schema.Struct({
  tenant: Schema.optional(Label),
  provider: Schema.optional(Label),
  account: Schema.optional(Label),
  source: Schema.optional(Source)
})

/** The id map's ids of a message: core's ids, with the external message id required. */
const RecordedIds = Schema.Struct({
  externalMessageId: EditRequest.Id,
  externalChatId: Schema.optional(EditRequest.Id),
  externalAuthorId: Schema.optional(EditRequest.Id),
  providerMessageId: Schema.optional(Schema.Union([EditRequest.Id, Schema.Finite])),
  providerChatId: Schema.optional(Schema.Union([EditRequest.Id, Schema.Finite])),
  providerConnectionId: Schema.optional(EditRequest.Id)
})

/**
 * A message to record in the id map (`record`, `recordSent`, `repoint`).
 *
 * @since 0.2.0
 */
export const Recorded = Schema.Struct({
  /** The tenant (one installation: a Bitrix24 portal's `member_id`, an Acquire account); `default` when omitted. */
  tenant: Schema.optional(Label),
  provider: Schema.optional(Label),
  account: Schema.optional(Label),
  ids: RecordedIds,
  /** What the message's text is: `text`, or `caption` for a media message (Telegram edits the two apart). */
  kind: Schema.optional(EditRequest.MessageKind)
})

/** A decoded {@link Recorded}. */
export type RecordedType = typeof Recorded.Type

/** A decoded submission: where it goes, who asked, the checked request and its stored form. */
export interface Decoded {
  readonly tenant: string | undefined
  readonly provider: string | undefined
  readonly account: string | undefined
  readonly source: string | undefined
  readonly ids: RecordedType["ids"]
  readonly text: string | undefined
  /** The request to deliver, as JSON (ids excluded: they come from the id map). */
  readonly request: string
}

const NUL = "\u0000"

const decodeRoute = SchemaParser.decodeUnknownResult(SubmissionRoute, { errors: "all" })
const decodeRecorded = SchemaParser.decodeUnknownResult(Recorded, { errors: "all" })

/** The keys of `value` (an object) no field declares, and of its `ids`. */
const keyProblems = (value: Record<string, unknown>, known: ReadonlyArray<string>): ReadonlyArray<Problem> => [
  ...unknownKeys(value, known, {}, "field"),
  ...(isRecord(value.ids)
    ? unknownKeys(value.ids, ID_KEYS, {}, "id").map((problem) => ({ ...problem, path: `ids.${problem.path}` }))
    : [])
]

const invalid = (problems: ReadonlyArray<Problem>): EditError.InvalidRequest =>
  new EditError.InvalidRequest({ problems: [...problems] })

const notAnObject = (what: string) =>
  Result.fail(invalid([{ path: "(request)", message: `must be an object (${what})` }]))

const isRecord = (value: unknown): value is Record<string, unknown> =>
  Predicate.isObject(value) && !Array.isArray(value)

/**
 * Decodes a submission (what `submit` takes), or the `InvalidRequest` naming
 * every field that is wrong.
 */
export const decodeSubmission = (input: unknown): Result.Result<Decoded, EditError.InvalidRequest> => {
  if (!isRecord(input)) return notAnObject("an edit: { ids: { externalMessageId }, text }")
  const { tenant, provider, account, source, ...request } = input
  // The common submit names no route nor source: nothing to decode for them.
  const route =
    tenant === undefined && provider === undefined && account === undefined && source === undefined
      ? Result.succeed({ tenant: undefined, provider: undefined, account: undefined, source: undefined })
      : decodeRoute({ tenant, provider, account, source })
  const checked = EditRequest.decodeResult(request)
  const text = typeof request.text === "string" ? request.text : undefined
  const ids = isRecord(request.ids) ? request.ids : undefined
  const problems: Array<Problem> = [
    ...keyProblems(input, [...REQUEST_KEYS, ...ROUTE_KEYS, "source"]),
    ...(Result.isFailure(route) ? EditRequest.problemsOf(route.failure) : []),
    ...(Result.isFailure(checked) ? checked.failure.problems : []),
    ...(ids !== undefined && ids.externalMessageId === undefined
      ? [{ path: "ids.externalMessageId", message: "is required: the outbox finds a message by its external id" }]
      : []),
    ...(text?.includes(NUL) === true
      ? [{ path: "text", message: "must not contain NUL (U+0000): databases cannot store it" }]
      : [])
  ]
  if (problems.length > 0 || Result.isFailure(route) || Result.isFailure(checked)) return Result.fail(invalid(problems))
  const { ids: decodedIds, ...body } = checked.success
  return Result.succeed({
    tenant: route.success.tenant,
    provider: route.success.provider,
    account: route.success.account,
    source: route.success.source,
    ids: { ...decodedIds, externalMessageId: decodedIds.externalMessageId as string },
    text: body.text,
    request: JSON.stringify(body)
  })
}

/** Decodes a message to record, or the `InvalidRequest` naming every field that is wrong. */
export const decodeRecordedMessage = (input: unknown): Result.Result<RecordedType, EditError.InvalidRequest> => {
  if (!isRecord(input)) return notAnObject("a message: { ids: { externalMessageId, providerMessageId } }")
  const decoded = decodeRecorded(input)
  const problems = [
    ...keyProblems(input, ["ids", "kind", ...ROUTE_KEYS]),
    ...(Result.isFailure(decoded) ? EditRequest.problemsOf(decoded.failure) : [])
  ]
  return problems.length > 0 || Result.isFailure(decoded)
    ? Result.fail(invalid(problems))
    : Result.succeed(decoded.success)
}

const decodeSource = SchemaParser.decodeUnknownResult(Source)

/** Decodes what `repoint` takes: a message to record, and who asks. */
export const decodeRepoint = (
  message: unknown,
  source: unknown
): Result.Result<{ readonly message: RecordedType; readonly source: string | undefined }, EditError.InvalidRequest> => {
  const recorded = decodeRecordedMessage(message)
  const who = source === undefined ? Result.succeed(undefined) : decodeSource(source)
  if (Result.isSuccess(recorded) && Result.isSuccess(who)) {
    return Result.succeed({ message: recorded.success, source: who.success })
  }
  return Result.fail(
    invalid([
      ...(Result.isFailure(recorded) ? recorded.failure.problems : []),
      ...(Result.isFailure(who)
        ? EditRequest.problemsOf(who.failure).map((problem) => ({ ...problem, path: "source" }))
        : [])
    ])
  )
}
