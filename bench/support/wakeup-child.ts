/**
 * The delivering side of the wake-up benchmark, in a process of its own: an
 * outbox worker on PostgreSQL whose editor reports, over IPC, the wall-clock
 * moment each delivery starts, and the process's CPU time when asked.
 *
 *   fork(wakeup-child.ts) with env WAKEUP_DATABASE_URL and WAKEUP_OPTIONS (JSON: the outbox's options)
 */
import { Capabilities, EditedMessage, MessageEditor } from "@reword/core"
import { createOutbox } from "@reword/outbox/promise"
import { Effect, Result } from "effect"

const url = process.env.WAKEUP_DATABASE_URL ?? ""
const options = JSON.parse(process.env.WAKEUP_OPTIONS ?? "{}") as Record<string, unknown>
const send = (message: unknown) => process.send?.(message)
const wallClock = () => performance.timeOrigin + performance.now()

const answer = (request: { readonly ids: object; readonly text?: string | undefined }) =>
  new EditedMessage.EditedMessage({
    provider: "instant",
    ids: request.ids,
    text: request.text,
    files: [],
    updatedAt: new Date()
  })

const editor = MessageEditor.make(
  {
    provider: "instant",
    capabilities: new Capabilities.Capabilities({
      requiredIds: ["externalMessageId"],
      files: false,
      authorDetails: false,
      chatDetails: false,
      language: false,
      maxMessagesPerCall: 100
    }),
    update: (request) => Effect.sync(() => answer(request)),
    updateBatch: (requests) =>
      Effect.sync(() => {
        const at = wallClock()
        for (const request of requests) send({ started: request.ids.externalMessageId, at })
        return requests.map((request) => Result.succeed(answer(request)))
      })
  },
  { retry: { maxAttempts: 1 } }
)

const outbox = await createOutbox({ editors: [{ editor }], database: { postgres: url }, ...options })
process.on("message", (message: { readonly cpu?: boolean; readonly stop?: boolean }) => {
  if (message.cpu === true) {
    const used = process.cpuUsage()
    send({ cpuUs: used.user + used.system })
  }
  if (message.stop === true) void outbox.close().then(() => process.exit(0))
})
send({ ready: true })
