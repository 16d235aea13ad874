/**
 * What one group-commit batch writes, decided item by item in batch order
 * against the id map as the batch finds it (and as its earlier items change
 * it): each item is judged alone.
 *
 * - a record creates the message, or completes it (an id the map holds is
 *   never overwritten); an id that differs from the one held is refused,
 *   naming both ids (the other ids it gives are still recorded);
 * - a submit of a message the map lacks is `NotFound` (or records it, with
 *   `unknownMessages: "record"`); one whose ids conflict with the map is
 *   refused and changes nothing; otherwise its new ids complete the map and
 *   the edit becomes the message's next version: the latest in the batch wins.
 */
import { EditError } from "@reword/core"
import { NotFound } from "../OutboxError.ts"
import type { EditRow, WriteRow } from "./batchStatements.ts"
import type { SubmitError } from "./groupCommit.ts"
import { DEFAULT_TENANT } from "./store.ts"
import type { RecordedType } from "./submission.ts"

/** The ids of a message as the id map holds them. */
export interface Held {
  readonly externalMessageId: string
  readonly externalChatId: string | undefined
  readonly externalAuthorId: string | undefined
  readonly providerMessageId: string | undefined
  readonly providerChatId: string | undefined
  readonly providerConnectionId: string | undefined
  /** What the message's text is (`text` or `caption`), where known. */
  readonly messageKind: "text" | "caption" | undefined
}

/** One item of a batch: a message to record, or an edit to store. */
export interface Item {
  readonly kind: "record" | "submit"
  readonly key: string
  readonly tenant: string
  readonly provider: string
  readonly account: string
  readonly ids: RecordedType["ids"]
  /** What the message's text is (records only: `text` or `caption`). */
  readonly messageKind?: RecordedType["kind"] | undefined
  /** The request as JSON, the text and who asked (submits only). */
  readonly request?: string | undefined
  readonly text?: string | undefined
  readonly source?: string | undefined
}

/** What became of one item: refused, recorded, or an edit whose version is its message's latest minus `back`. */
export type Decision =
  | { readonly _tag: "Refused"; readonly error: SubmitError }
  | { readonly _tag: "Recorded" }
  | { readonly _tag: "Edit"; readonly key: string; readonly back: number }

export interface Plan {
  readonly decisions: ReadonlyArray<Decision>
  /** The messages to record, complete or edit, one per key, in key order. */
  readonly writes: ReadonlyArray<WriteRow>
  readonly edits: ReadonlyArray<EditRow>
}

const ID_FIELDS = [
  "externalChatId",
  "externalAuthorId",
  "providerMessageId",
  "providerChatId",
  "providerConnectionId"
] as const

const asText = (id: unknown): string | undefined => (id === undefined || id === null ? undefined : String(id))

/**
 * The ids a call gives that differ from the ones the id map holds: each names
 * both ids. The map is never re-pointed by an edit or a record (`repoint` does it).
 */
export const conflictsOf = (known: Held, ids: RecordedType["ids"]): ReadonlyArray<EditError.Problem> =>
  ID_FIELDS.flatMap((field) => {
    const given = asText(ids[field])
    const held = known[field]
    return given === undefined || held === undefined || given === held
      ? []
      : [
          {
            path: `ids.${field}`,
            message: `is ${JSON.stringify(given)}, but the id map holds ${JSON.stringify(held)} for message ${JSON.stringify(known.externalMessageId)}: to point the message at another one, call repoint`
          }
        ]
  })

/** The map's ids completed by the ones given (an id held is kept). */
const completed = (held: Held | undefined, item: Item): Held => ({
  externalMessageId: held?.externalMessageId ?? item.ids.externalMessageId,
  externalChatId: held?.externalChatId ?? asText(item.ids.externalChatId),
  externalAuthorId: held?.externalAuthorId ?? asText(item.ids.externalAuthorId),
  providerMessageId: held?.providerMessageId ?? asText(item.ids.providerMessageId),
  providerChatId: held?.providerChatId ?? asText(item.ids.providerChatId),
  providerConnectionId: held?.providerConnectionId ?? asText(item.ids.providerConnectionId),
  messageKind: held?.messageKind ?? item.messageKind
})

const sameIds = (a: Held | undefined, b: Held): boolean =>
  a !== undefined && ID_FIELDS.every((field) => a[field] === b[field]) && a.messageKind === b.messageKind

const conflicting = (item: Item, problems: ReadonlyArray<EditError.Problem>): Decision => ({
  _tag: "Refused",
  error: new EditError.EditError({
    provider: item.provider,
    operation: "update",
    reason: new EditError.InvalidRequest({ problems: [...problems] })
  })
})

/** Decides every item of the batch, in order, against the map's rows `known` (by key). */
export const make = (
  batch: ReadonlyArray<Item>,
  known: ReadonlyMap<string, Held>,
  unknownMessages: "reject" | "record"
): Plan => {
  const state = new Map<string, Held>(known)
  const changed = new Map<string, Item>()
  const decisions: Array<Decision> = []
  const accepted: Array<{ readonly item: Item; readonly index: number }> = []
  for (const item of batch) {
    const held = state.get(item.key)
    const problems = held === undefined ? [] : conflictsOf(held, item.ids)
    if (item.kind === "submit") {
      if (held === undefined && unknownMessages !== "record") {
        decisions.push({
          _tag: "Refused",
          error: new NotFound({
            ...(item.tenant === DEFAULT_TENANT ? {} : { tenant: item.tenant }),
            provider: item.provider,
            account: item.account,
            externalMessageId: item.ids.externalMessageId
          })
        })
        continue
      }
      if (problems.length > 0) {
        decisions.push(conflicting(item, problems))
        continue
      }
    }
    const next = completed(held, item)
    if (!sameIds(held, next)) {
      state.set(item.key, next)
      changed.set(item.key, item)
    }
    if (item.kind === "record") {
      decisions.push(problems.length > 0 ? conflicting(item, problems) : { _tag: "Recorded" })
      continue
    }
    accepted.push({ item, index: decisions.length })
    decisions.push({ _tag: "Edit", key: item.key, back: 0 })
  }
  // The latest edit of a message in the batch gets its highest version: count the ones after each.
  const after = new Map<string, number>()
  const edits: Array<EditRow> = []
  for (let n = accepted.length - 1; n >= 0; n--) {
    const { item, index } = accepted[n] as (typeof accepted)[number]
    const back = after.get(item.key) ?? 0
    after.set(item.key, back + 1)
    decisions[index] = { _tag: "Edit", key: item.key, back }
    edits.push({ key: item.key, back, request: item.request ?? "{}", text: item.text, source: item.source })
  }
  for (const { item } of accepted) if (!changed.has(item.key)) changed.set(item.key, item)
  const writes = [...changed.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, item]): WriteRow => {
      const ids = state.get(key) as Held
      return {
        key,
        tenant: item.tenant,
        provider: item.provider,
        account: item.account,
        ...ids,
        edits: after.get(key) ?? 0
      }
    })
  return { decisions, writes, edits }
}

/** Whether the rows stored are the ones planned (another process may have recorded a new message meanwhile). */
export const asPlanned = (plan: Plan, stored: ReadonlyMap<string, Held>): boolean =>
  plan.writes.every((row) => sameIds(stored.get(row.key), row))
