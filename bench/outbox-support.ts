/**
 * What the outbox benchmarks share: a throwaway directory for the database,
 * and an editor that answers at once (to measure the outbox, not a provider).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Capabilities, EditedMessage, MessageEditor } from "@reword/core"
import { Effect, Result } from "effect"

/** A fresh SQLite file path; `cleanup` removes its directory. */
export const scratchDatabase = (): { readonly filename: string; readonly cleanup: () => void } => {
  const directory = mkdtempSync(join(tmpdir(), "reword-bench-outbox-"))
  return { filename: join(directory, "outbox.db"), cleanup: () => rmSync(directory, { recursive: true, force: true }) }
}

/**
 * An editor whose provider is instant: every edit succeeds; `delivered` counts them, and `onDelivered` (if given)
 * hears each edit's external message id as its call starts.
 */
export const instantEditor = (perCall = 50, onDelivered?: (externalMessageId: string | undefined) => void) => {
  const state = { delivered: 0 }
  const answer = (request: {
    readonly ids: { readonly externalMessageId?: string | undefined }
    readonly text?: string | undefined
  }) => {
    state.delivered++
    onDelivered?.(request.ids.externalMessageId)
    return new EditedMessage.EditedMessage({
      provider: "instant",
      ids: request.ids,
      text: request.text,
      files: [],
      updatedAt: new Date()
    })
  }
  const editor = MessageEditor.make(
    {
      provider: "instant",
      capabilities: new Capabilities.Capabilities({
        requiredIds: ["externalMessageId"],
        files: false,
        authorDetails: false,
        chatDetails: false,
        language: false,
        maxMessagesPerCall: perCall
      }),
      update: (request) => Effect.sync(() => answer(request)),
      updateBatch: (requests) => Effect.sync(() => requests.map((request) => Result.succeed(answer(request))))
    },
    { retry: { maxAttempts: 1 } }
  )
  return { editor, state }
}
