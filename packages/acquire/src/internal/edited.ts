/**
 * The editor's fast read of a successful update answer: the three fields an
 * edit needs (`data.id`, `data.message`, `data.dateUpdated`), read directly
 * from the parsed JSON, without decoding the rest of the message (its `case`
 * and `sender` objects are most of the answer, and no edit reads them).
 *
 * It accepts only what `MessageAnswer` (the Schema) accepts, and reads each
 * field as the Schema does; anything else (no `data` object, an id that is not
 * a positive integer) answers `undefined`, and the caller decodes the answer
 * with the Schema instead, which finds the same result, or the same reason, as
 * before. Unknown fields are ignored, as the Schema ignores them. It reads
 * three properties and never walks the answer, so its cost does not grow with
 * the answer, whatever the answer holds.
 */

/** What an edit reads of Acquire's answer (the `AcquireMessage` fields of the same names). */
export interface Edited {
  readonly id: number
  readonly message?: string | undefined
  readonly dateUpdated?: Date | undefined
}

/** `AcquireId` (in `AcquireSchemas`): a positive safe integer, or up to 16 ASCII digits that read as one. */
const DIGITS = /^[0-9]{1,16}$/

const idOf = (value: unknown): number | undefined => {
  const id = typeof value === "number" ? value : typeof value === "string" && DIGITS.test(value) ? Number(value) : NaN
  return Number.isSafeInteger(id) && id > 0 ? id : undefined
}

/** A plain (non-array) object's own property, or `undefined`. */
const own = (record: object, key: string): unknown =>
  Object.hasOwn(record, key) ? (record as Record<string, unknown>)[key] : undefined

const isPlainObject = (value: unknown): value is object =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * The fields of `{ "data": { "id": ..., ... } }`, or `undefined` when the
 * answer is not that plain shape (the Schema then judges it).
 */
export const read = (json: unknown): Edited | undefined => {
  try {
    if (!isPlainObject(json)) return undefined
    const data = own(json, "data")
    if (!isPlainObject(data)) return undefined
    const id = idOf(own(data, "id"))
    if (id === undefined) return undefined
    // `lenient` fields: a value of another type is left out, as the Schema leaves it out.
    const message = own(data, "message")
    const dateUpdated = own(data, "dateUpdated")
    const date = typeof dateUpdated === "string" ? new Date(dateUpdated) : undefined
    return {
      id,
      ...(typeof message === "string" ? { message } : {}),
      ...(date === undefined || Number.isNaN(date.getTime()) ? {} : { dateUpdated: date })
    }
  } catch {
    // A value no JSON parser makes (a throwing getter, a Proxy): the Schema judges it.
    return undefined
  }
}
