/**
 * Requests from the command line: from the id, text and file flags, or from
 * one line of a JSON-lines file.
 */
import { EditError, EditRequest } from "@reword/core"
import type { SandboxServer } from "@reword/core/sandbox"
import { Effect, Option, Schema } from "effect"

/** The request flags of `reword update`. */
export interface RequestFlags {
  readonly externalMessageId: Option.Option<string>
  readonly externalChatId: Option.Option<string>
  readonly externalAuthorId: Option.Option<string>
  readonly providerMessageId: Option.Option<string>
  readonly providerChatId: Option.Option<string>
  readonly providerConnectionId: Option.Option<string>
  readonly kind: Option.Option<"text" | "caption">
  readonly text: Option.Option<string>
  readonly files: ReadonlyArray<string>
  readonly language: Option.Option<string>
}

/** The flags that make a request, by name, for usage errors. */
export const requestFlagNames = (flags: RequestFlags): ReadonlyArray<string> =>
  [
    Option.isSome(flags.externalMessageId) ? "--external-message-id" : undefined,
    Option.isSome(flags.externalChatId) ? "--external-chat-id" : undefined,
    Option.isSome(flags.externalAuthorId) ? "--external-author-id" : undefined,
    Option.isSome(flags.providerMessageId) ? "--provider-message-id" : undefined,
    Option.isSome(flags.providerChatId) ? "--provider-chat-id" : undefined,
    Option.isSome(flags.providerConnectionId) ? "--provider-connection-id" : undefined,
    Option.isSome(flags.kind) ? "--kind" : undefined,
    Option.isSome(flags.text) ? "--text" : undefined,
    flags.files.length > 0 ? "--file" : undefined,
    Option.isSome(flags.language) ? "--language" : undefined
  ].filter((name): name is string => name !== undefined)

/**
 * `--file https://cdn.example/q3.pdf#Q3%20report.pdf`: the URL, and the file
 * name from the fragment (percent-decoded). A fragment is never sent to a
 * server, so it is free to carry the name.
 */
export const fileOf = (spec: string): { readonly url: string; readonly name?: string } => {
  const hash = spec.indexOf("#")
  if (hash < 0) return { url: spec.trim() }
  const url = spec.slice(0, hash).trim()
  const rawName = spec.slice(hash + 1)
  if (rawName.length === 0) return { url }
  let name = rawName
  try {
    name = decodeURIComponent(rawName)
  } catch {
    // Not percent-encoded: the name as written.
  }
  return { url, name }
}

const defined = <A>(option: Option.Option<A>): A | undefined => Option.getOrUndefined(option)

/** The plain request of the flags (validated later, by the editor). */
export const fromFlags = (flags: RequestFlags): EditRequest.EditRequestInput => {
  const ids = {
    externalMessageId: defined(flags.externalMessageId),
    externalChatId: defined(flags.externalChatId),
    externalAuthorId: defined(flags.externalAuthorId),
    providerMessageId: defined(flags.providerMessageId),
    providerChatId: defined(flags.providerChatId),
    providerConnectionId: defined(flags.providerConnectionId)
  }
  const text = defined(flags.text)
  const language = defined(flags.language)
  const kind = defined(flags.kind)
  return {
    ids: Object.fromEntries(Object.entries(ids).filter(([, value]) => value !== undefined)),
    ...(text === undefined ? {} : { text }),
    ...(flags.files.length === 0 ? {} : { files: flags.files.map(fileOf) }),
    ...(language === undefined ? {} : { language }),
    ...(kind === undefined ? {} : { kind })
  }
}

const decodeJsonRequest = Schema.decodeUnknownEffect(Schema.toCodecJson(EditRequest.EditRequest))

/**
 * One line of a JSON-lines file as a request: an `EditRequest` in its JSON form
 * (dates as ISO strings), or the line's own `InvalidRequest`.
 */
export const fromJsonLine = (line: string): Effect.Effect<EditRequest.EditRequest, EditError.InvalidRequest> => {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error)
    return Effect.fail(
      new EditError.InvalidRequest({ problems: [{ path: "(line)", message: `is not valid JSON (${detail})` }] })
    )
  }
  return decodeJsonRequest(value, { errors: "all", onExcessProperty: "ignore" }).pipe(
    Effect.mapError((error) => new EditError.InvalidRequest({ problems: EditRequest.problemsOf(error.issue) }))
  )
}

/**
 * The ids to seed a sandbox message at: the request's ids that a relaying app
 * would have kept (a provider message id only when it is a number, or digits).
 */
export const seedIdsOf = (ids: {
  readonly externalMessageId?: unknown
  readonly externalChatId?: unknown
  readonly externalAuthorId?: unknown
  readonly providerMessageId?: unknown
  readonly providerChatId?: unknown
}): Partial<SandboxServer.RelayedIds> => {
  const text = (value: unknown): string | undefined =>
    typeof value === "string" && value.trim().length > 0 ? value : undefined
  const providerMessageId =
    typeof ids.providerMessageId === "number" && Number.isSafeInteger(ids.providerMessageId)
      ? ids.providerMessageId
      : typeof ids.providerMessageId === "string" && /^[0-9]{1,15}$/.test(ids.providerMessageId)
        ? Number(ids.providerMessageId)
        : undefined
  const seeded: {
    externalMessageId?: string
    externalChatId?: string
    externalAuthorId?: string
    providerMessageId?: number
    providerChatId?: number
  } = {}
  const externalMessageId = text(ids.externalMessageId)
  const externalChatId = text(ids.externalChatId)
  const externalAuthorId = text(ids.externalAuthorId)
  if (externalMessageId !== undefined) seeded.externalMessageId = externalMessageId
  if (externalChatId !== undefined) seeded.externalChatId = externalChatId
  if (externalAuthorId !== undefined) seeded.externalAuthorId = externalAuthorId
  if (providerMessageId !== undefined) seeded.providerMessageId = providerMessageId
  const providerChatId =
    typeof ids.providerChatId === "number" && Number.isSafeInteger(ids.providerChatId)
      ? ids.providerChatId
      : typeof ids.providerChatId === "string" && /^-?[0-9]{1,15}$/.test(ids.providerChatId)
        ? Number(ids.providerChatId)
        : undefined
  if (providerChatId !== undefined && providerChatId !== 0) seeded.providerChatId = providerChatId
  return seeded
}
