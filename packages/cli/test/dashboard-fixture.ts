/**
 * An outbox database as an app's outbox writes it (@reword/outbox on SQLite,
 * real workers), spread over the last day by running each phase on a clock
 * set back in time: pending edits of two providers and accounts, confirmed
 * messages with several versions, and dead letters, one of whose reason
 * quotes a secret and one whose id and text are markup.
 */
import { join } from "node:path"
import { Capabilities, EditError, EditedMessage, MessageEditor } from "@reword/core"
import { Outbox, sqliteClient } from "@reword/outbox"
import { Clock, Effect, Layer } from "effect"
import type { SqlClient } from "effect/sql"

/** A secret setting's value that the provider quoted in a refusal: never on a page. */
export const SECRET = "acq-key-4f9a1c77e0"
/** Markup from the database: shown as text, never run. */
export const HOSTILE = `<img src=x onerror="document.title='pwned'">`
/** A dead letter whose id is markup too. */
export const HOSTILE_ID = `<b>wa-evil</b>"'`

const HOUR = 3_600_000

const editorOf = (provider: string) =>
  MessageEditor.make(
    {
      provider,
      capabilities: new Capabilities.Capabilities({
        requiredIds: ["externalMessageId"],
        files: false,
        authorDetails: false,
        chatDetails: false,
        language: false,
        maxMessagesPerCall: 1
      }),
      update: (request) =>
        (request.ids.externalMessageId ?? "").includes("dead") || request.ids.externalMessageId === HOSTILE_ID
          ? Effect.fail(
              new EditError.NotFound({
                description: `no such message (key ${SECRET}) ${request.ids.externalMessageId === HOSTILE_ID ? HOSTILE : ""}`
              })
            )
          : Effect.succeed(
              new EditedMessage.EditedMessage({
                provider,
                ids: request.ids,
                text: request.text,
                files: [],
                updatedAt: new Date()
              })
            )
    },
    { retry: { maxAttempts: 1 } }
  )

const routes = [
  { editor: editorOf("acquire"), account: "acct-1" },
  { editor: editorOf("bitrix24"), account: "portal-7" }
]

/** A clock `offset` ms behind the real one (its sleeps are real). */
const behind = (offset: number): Clock.Clock => {
  const base = Clock.Clock.defaultValue()
  const shifted: Clock.Clock = Object.create(base)
  Object.defineProperties(shifted, {
    currentTimeMillisUnsafe: { value: () => base.currentTimeMillisUnsafe() - offset },
    currentTimeMillis: { get: () => Effect.sync(() => base.currentTimeMillisUnsafe() - offset) },
    currentTimeNanosUnsafe: { value: () => base.currentTimeNanosUnsafe() - BigInt(offset) * 1_000_000n },
    currentTimeNanos: { get: () => Effect.sync(() => base.currentTimeNanosUnsafe() - BigInt(offset) * 1_000_000n) }
  })
  return shifted
}

type Step = (outbox: Outbox.Service) => Effect.Effect<unknown, unknown>

/** Where the outbox is written: a database and a table prefix. */
export interface Target {
  readonly client: Layer.Layer<SqlClient.SqlClient, unknown>
  readonly tablePrefix?: string | undefined
}

/** Runs one phase `hoursAgo` in the past, with a worker (`deliver`) or without. */
const phase = (target: Target, hoursAgo: number, deliver: boolean, step: Step) =>
  Effect.runPromise(
    Effect.flatMap(
      Outbox.makeWith(routes, {
        worker: deliver,
        workerId: deliver ? `worker-${hoursAgo}h` : undefined,
        pollInterval: "10 millis",
        tablePrefix: target.tablePrefix
      }),
      (outbox) => Effect.andThen(step(outbox), deliver ? outbox.drain({ timeout: "20 seconds" }) : Effect.void)
    ).pipe(
      Effect.scoped,
      Effect.provide(target.client.pipe(Layer.orDie)),
      Effect.provideService(Clock.Clock, behind(hoursAgo * HOUR))
    )
  )

const acquire = { provider: "acquire", account: "acct-1" } as const
const bitrix = { provider: "bitrix24", account: "portal-7" } as const

/** Writes the outbox database in `directory` (SQLite); answers its path. */
export const writeOutbox = async (directory: string): Promise<string> => {
  const database = join(directory, "outbox.db")
  await writeOutboxTo({ client: sqliteClient({ filename: database }) })
  return database
}

/** Writes the outbox to a database. */
export const writeOutboxTo = async (database: Target): Promise<void> => {
  const ids = ["wa-1", "dead-1", "dead-2", HOSTILE_ID, ...Array.from({ length: 8 }, (_, i) => `wa-p${i}`)]
  await phase(database, 23, false, (outbox) =>
    Effect.forEach(ids, (id) =>
      Effect.andThen(
        outbox.record({ ...acquire, ids: { externalMessageId: id } }),
        outbox.record({ ...bitrix, ids: { externalMessageId: `b-${id}` } })
      )
    )
  )
  await phase(database, 20, true, (outbox) =>
    Effect.andThen(
      outbox.submit({ ...acquire, ids: { externalMessageId: "wa-1" }, text: "Meet at 9", source: "agent" }),
      outbox.submit({ ...bitrix, ids: { externalMessageId: "b-dead-1" }, text: "Refund sent", source: "agent" })
    )
  )
  await phase(database, 14, true, (outbox) =>
    outbox.submit({ ...acquire, ids: { externalMessageId: "dead-1" }, text: "never there", source: "cli" })
  )
  await phase(database, 5, true, (outbox) =>
    Effect.andThen(
      outbox.submit({ ...acquire, ids: { externalMessageId: "wa-1" }, text: HOSTILE, source: "customer" }),
      outbox.submit({ ...acquire, ids: { externalMessageId: HOSTILE_ID }, text: HOSTILE, source: "agent" })
    )
  )
  await phase(database, 0.5, true, (outbox) =>
    outbox.submit({ ...acquire, ids: { externalMessageId: "dead-2" }, text: "also never there", source: "agent" })
  )
  // Then edits left pending (no worker runs again), asked over the last day.
  for (const [index, hoursAgo] of [22, 18, 12, 9, 6, 3, 2, 1].entries()) {
    const where = index % 3 === 0 ? bitrix : acquire
    const id = where === bitrix ? `b-wa-p${index}` : `wa-p${index}`
    await phase(database, hoursAgo, false, (outbox) =>
      outbox.submit({ ...where, ids: { externalMessageId: id }, text: `reply ${index}`, source: "agent" })
    )
  }
}
