/**
 * The answers of Acquire's messenger endpoints, as Schemas. Only the message id
 * is required: every other field may be added, missing, `null` or of an
 * unexpected type without failing the answer (such a field is simply absent
 * from the decoded value), because the documentation shows examples, not a
 * contract, and the `case` and `sender` objects are large and change.
 *
 * @since 0.1.0
 */
import { Untrusted } from "@reword/core/adapter"
import { Effect, Option, Schema, SchemaTransformation } from "effect"

/**
 * A field that decodes when it can and is left out when it cannot (missing,
 * `null`, or of another type), instead of failing the whole answer.
 */
const lenient = <S extends Schema.Top>(schema: S) =>
  Schema.optionalKey(schema.pipe(Schema.catchDecoding(() => Effect.succeed(Option.none()))))

/** How deep `meta` may nest: a deeper one is left out, so that no answer hands the app a value too deep to print. */
const MAX_META_DEPTH = 16

const Meta = Schema.Record(Schema.String, Schema.Unknown).check(
  Schema.makeFilter((meta: object) =>
    Untrusted.findFirst(meta, (_, depth) => (depth >= MAX_META_DEPTH ? true : undefined), {
      maxDepth: MAX_META_DEPTH
    }) === undefined
      ? undefined
      : `must nest at most ${MAX_META_DEPTH} levels`
  )
)

/**
 * An Acquire id: a positive integer, also when answered as a string of digits.
 *
 * @category schemas
 * @since 0.1.0
 */
export const AcquireId = Schema.Union([
  Schema.Int,
  Schema.String.check(Schema.isPattern(/^[0-9]{1,16}$/)).pipe(
    Schema.decodeTo(Schema.Number, SchemaTransformation.numberFromString)
  )
]).check(Schema.isInt(), Schema.isGreaterThan(0))

/**
 * An ISO 8601 date string, as a `Date`; an unreadable date is left out.
 *
 * @category schemas
 * @since 0.1.0
 */
export const AcquireDate = Schema.DateFromString.check(
  Schema.makeFilter((date: Date) => (Number.isNaN(date.getTime()) ? "must be an ISO 8601 date" : undefined))
)

/**
 * The case (conversation) a message belongs to, as far as reword reads it.
 *
 * @category schemas
 * @since 0.1.0
 */
export class AcquireCase extends Schema.Class<AcquireCase>("@reword/acquire/AcquireCase")({
  id: lenient(AcquireId),
  threadId: lenient(AcquireId),
  contactId: lenient(AcquireId),
  channel: lenient(Schema.String),
  status: lenient(Schema.String),
  title: lenient(Schema.String),
  dateCreated: lenient(AcquireDate),
  dateUpdated: lenient(AcquireDate),
  dateClosed: lenient(AcquireDate)
}) {}

/**
 * Who sent a message: an agent (`user`) or a contact.
 *
 * @category schemas
 * @since 0.1.0
 */
export class AcquireSender extends Schema.Class<AcquireSender>("@reword/acquire/AcquireSender")({
  id: lenient(AcquireId),
  type: lenient(Schema.String),
  name: lenient(Schema.String),
  firstName: lenient(Schema.String),
  lastName: lenient(Schema.String),
  email: lenient(Schema.String)
}) {}

/**
 * One message as Acquire answers it. `caseId` and `threadId` are filled from
 * the `case` object when the answer carries them only there.
 *
 * @category schemas
 * @since 0.1.0
 */
export class AcquireMessage extends Schema.Class<AcquireMessage>("@reword/acquire/AcquireMessage")({
  /** Acquire's message id: the id to keep in order to edit the message later. */
  id: AcquireId,
  /** The text. */
  message: lenient(Schema.String),
  /** `message`, `note` or `event`. */
  type: lenient(Schema.String),
  /** `chat`, `email`, ... */
  channel: lenient(Schema.String),
  senderId: lenient(AcquireId),
  /** `user` (an agent) or `contact`. */
  senderType: lenient(Schema.String),
  /** `yes` or `no`. */
  seen: lenient(Schema.String),
  dateCreated: lenient(AcquireDate),
  /** When the message was last changed; `null` (absent here) on a message never edited. */
  dateUpdated: lenient(AcquireDate),
  caseId: lenient(AcquireId),
  threadId: lenient(AcquireId),
  contactId: lenient(AcquireId),
  meta: lenient(Meta),
  case: lenient(AcquireCase),
  sender: lenient(AcquireSender)
}) {}

/**
 * What a delete removed.
 *
 * @category schemas
 * @since 0.1.0
 */
export class Deleted extends Schema.Class<Deleted>("@reword/acquire/Deleted")({
  /** How many messages were deleted (1, or 0 when there was none). */
  deleted: Schema.Union([
    Schema.Int,
    Schema.Boolean.pipe(
      Schema.decodeTo(
        Schema.Int,
        SchemaTransformation.transform({
          decode: (deleted: boolean): number => (deleted ? 1 : 0),
          encode: (n: number) => n > 0
        })
      )
    )
  ])
}) {}
