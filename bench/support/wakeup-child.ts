/**
 * The delivering side of the wake-up benchmark, in a process of its own: an
 * outbox worker on PostgreSQL whose editor reports, over IPC, the wall-clock
 * moment each delivery starts, and the process's CPU time when asked.
 *
 *   fork(wakeup-child.ts) with env WAKEUP_DATABASE_URL and WAKEUP_OPTIONS (JSON: the outbox's options)
 */
import { createOutbox } from "@reword/outbox/promise"
import { instantEditor } from "../outbox-support.ts"

const url = process.env.WAKEUP_DATABASE_URL ?? ""
const options = JSON.parse(process.env.WAKEUP_OPTIONS ?? "{}") as Record<string, unknown>
const send = (message: unknown) => process.send?.(message)
const wallClock = () => performance.timeOrigin + performance.now()

const { editor } = instantEditor(100, (id) => send({ started: id, at: wallClock() }))
const outbox = await createOutbox({ editors: [{ editor }], database: { postgres: url }, ...options })
process.on("message", (message: { readonly cpu?: boolean; readonly stop?: boolean }) => {
  if (message.cpu === true) {
    const used = process.cpuUsage()
    send({ cpuUs: used.user + used.system })
  }
  if (message.stop === true) void outbox.close().then(() => process.exit(0))
})
send({ ready: true })
