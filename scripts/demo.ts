/**
 * `pnpm demo`: the port at work, end to end, with no credentials and no network.
 *
 * Until the provider sandboxes exist, the demo runs the core against the
 * in-memory provider (and says so). The app code below is provider-neutral:
 * it would run unchanged on Bitrix24 or Acquire.
 */
import { type EditError, InMemoryEditor, MessageEditor, Provider } from "@reword/core"
import { ConfigProvider, Effect, Layer, Result } from "effect"

const line = (text = "") => console.log(text)

/** The app: provider-neutral, it only knows the port. */
const app = (store: InMemoryEditor.Store) =>
  Effect.gen(function* () {
    const editor = yield* MessageEditor.MessageEditor
    line(`Provider chosen by configuration: ${editor.provider}`)
    line(`It can edit files: ${editor.capabilities.files}; it needs ids: ${editor.capabilities.requiredIds.join(", ")}`)
    line()

    const ids = { externalMessageId: "wa-881", externalChatId: "wa-chat-7", externalAuthorId: "wa-user-3" }
    line(`Before: "${store.messages.get("wa-881")?.text}"`)
    const edited = yield* editor.update({ ids, text: "See you on Tuesday at 10:00." })
    line(
      `After:  "${store.messages.get("wa-881")?.text}"  (confirmed by ${edited.provider} at ${edited.updatedAt?.toISOString()})`
    )
    line()

    line("Now three edits that cannot succeed, and how the app matches on the reason:")
    const outcomes = yield* editor.updateMany([
      { ids: { ...ids, externalMessageId: "wa-404" }, text: "This message was never relayed" },
      { ids, text: "" },
      { ids, text: "ok", files: [{ url: "not a url" }] }
    ])
    for (const outcome of outcomes) {
      if (Result.isSuccess(outcome)) continue
      const error: EditError.EditError = outcome.failure
      const advice = yield* Effect.fail(error).pipe(
        Effect.catchReasons("EditError", {
          NotFound: () => Effect.succeed("forget this message: the provider does not have it"),
          InvalidRequest: (reason) =>
            Effect.succeed(`fix the request (${reason.problems.map((p) => p.path).join(", ")})`),
          Unsupported: (reason) => Effect.succeed(`do without ${reason.capability}`)
        }),
        Effect.orElseSucceed(() => (error.isRetryable ? "retry later" : "report it"))
      )
      line(`  ${error.reason._tag.padEnd(15)} -> ${advice}`)
      line(`  ${"".padEnd(15)}    ${error.message}`)
    }
  })

const main = Effect.gen(function* () {
  line("reword demo: no sandboxes yet, so this runs the core against the in-memory provider (REWORD_PROVIDER=memory).")
  line()
  const store = InMemoryEditor.makeStore()
  store.add("wa-881", "See you on Monday at 10:00.")
  const configuration = ConfigProvider.layer(ConfigProvider.fromUnknown({ REWORD_PROVIDER: "memory" }))
  const editorLayer = Provider.layer([InMemoryEditor.providerFor(store)]).pipe(Layer.provide(configuration))
  yield* app(store).pipe(Effect.provide(editorLayer))
  line()
  line("Done. Run the tests with: npx -y pnpm@10.34.9 test")
})

Effect.runPromise(main).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
