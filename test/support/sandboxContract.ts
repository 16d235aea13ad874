/**
 * The contract every provider sandbox fulfils (core's `ProviderSandbox`),
 * as one suite that runs against each sandbox through its public API only:
 * where it listens, the environment that points reword at it, seeding (its
 * defaults and its refusals), inspecting, an edit through the provider's
 * descriptor, the request log without credentials, fault injection, and a
 * stop that runs once.
 */
import { assert, describe, it } from "@effect/vitest"
import { Provider } from "@reword/core"
import { SandboxServer } from "@reword/core/sandbox"
import { Effect } from "effect"

/** A sandbox under test: how to start it, and the provider that edits on it. */
export interface ContractSubject {
  /** The provider's name, as `REWORD_PROVIDER` and `sandbox.provider` say it. */
  readonly name: string
  readonly start: () => Promise<SandboxServer.ProviderSandbox>
  readonly provider: Provider.AnyDescriptor
}

const withSandbox = <A>(
  subject: ContractSubject,
  use: (sandbox: SandboxServer.ProviderSandbox) => Effect.Effect<A, unknown>
): Effect.Effect<A, unknown> =>
  Effect.acquireUseRelease(Effect.promise(subject.start), use, (sandbox) => Effect.promise(() => sandbox.stop()))

const editorOn = (subject: ContractSubject, sandbox: SandboxServer.ProviderSandbox) =>
  Provider.makeEditor([subject.provider], { source: Provider.fromEnv(sandbox.env), retry: { maxAttempts: 1 } })

/** Runs the contract against one sandbox. */
export const sandboxContract = (subject: ContractSubject): void => {
  describe(`the ${subject.name} sandbox fulfils the sandbox contract`, () => {
    it.live("listens on 127.0.0.1 and names its provider in env", () =>
      withSandbox(subject, (sandbox) =>
        Effect.sync(() => {
          assert.strictEqual(sandbox.provider, subject.name)
          assert.match(sandbox.url, /^http:\/\/127\.0\.0\.1:\d+$/)
          assert.strictEqual(sandbox.server.url, sandbox.url)
          assert.strictEqual(sandbox.env[Provider.PROVIDER_VARIABLE], subject.name)
        })
      )
    )

    it.live("seeds a message with the ids made up that were not given, and inspects it", () =>
      withSandbox(subject, (sandbox) =>
        Effect.gen(function* () {
          const first = yield* Effect.promise(() => sandbox.seedMessage("first"))
          const second = yield* Effect.promise(() => sandbox.seedMessage("second", { externalChatId: "chat-9" }))
          const defaults = SandboxServer.SEED_DEFAULTS
          assert.strictEqual(first.externalMessageId, `${defaults.externalMessageIdPrefix}1`)
          assert.strictEqual(first.externalChatId, defaults.externalChatId)
          assert.strictEqual(first.externalAuthorId, defaults.externalAuthorId)
          assert.strictEqual(second.externalMessageId, `${defaults.externalMessageIdPrefix}2`)
          assert.strictEqual(second.externalChatId, "chat-9")
          assert.deepStrictEqual(sandbox.inspect(first), { text: "first", history: ["first"] })
          assert.deepStrictEqual(sandbox.inspect(second), { text: "second", history: ["second"] })
        })
      )
    )

    it.live("refuses to seed empty text or an empty id, and inspects unknown ids as undefined", () =>
      withSandbox(subject, (sandbox) =>
        Effect.gen(function* () {
          const refusal = (text: string, ids?: Partial<SandboxServer.RelayedIds>) =>
            Effect.promise(() =>
              sandbox.seedMessage(text, ids).then(
                () => undefined,
                (error: unknown) => error
              )
            )
          assert.instanceOf(yield* refusal(""), TypeError)
          assert.instanceOf(yield* refusal("x", { externalMessageId: "" }), TypeError)
          assert.isUndefined(
            sandbox.inspect({ externalMessageId: "never", externalChatId: "never", providerMessageId: 999_999_999 })
          )
        })
      )
    )

    it.live("takes an edit through its provider's descriptor, logged without any credential", () =>
      withSandbox(subject, (sandbox) =>
        Effect.gen(function* () {
          const ids = yield* Effect.promise(() => sandbox.seedMessage("Meet at 11."))
          const editor = yield* editorOn(subject, sandbox)
          const edited = yield* editor.update({ ids, text: "Meet at 10." })
          assert.strictEqual(edited.provider, subject.name)
          assert.deepStrictEqual(sandbox.inspect(ids), { text: "Meet at 10.", history: ["Meet at 11.", "Meet at 10."] })
          assert.isAbove(sandbox.server.requests.length, 0)
          const log = JSON.stringify(sandbox.server.requests)
          const secrets = subject.provider.settings
            .filter((setting) => setting.secret === true)
            .map((setting) => sandbox.env[setting.env])
            .filter((value): value is string => value !== undefined)
          assert.isAbove(secrets.length, 0)
          for (const secret of secrets) assert.notInclude(log, secret)
        }).pipe(Effect.scoped)
      )
    )

    it.live("plays an injected fault on the next request only", () =>
      withSandbox(subject, (sandbox) =>
        Effect.gen(function* () {
          const ids = yield* Effect.promise(() => sandbox.seedMessage("before"))
          const editor = yield* editorOn(subject, sandbox)
          sandbox.server.inject({ fault: SandboxServer.Faults.status(503, { error: "down" }), times: 1 })
          const failed = yield* Effect.flip(editor.update({ ids, text: "during" }))
          assert.strictEqual(failed.reason._tag, "Unavailable")
          assert.strictEqual(sandbox.inspect(ids)?.text, "before")
          yield* editor.update({ ids, text: "after" })
          assert.strictEqual(sandbox.inspect(ids)?.text, "after")
        }).pipe(Effect.scoped)
      )
    )

    it.live("stops once: a second stop answers the same, and the port is closed", () =>
      Effect.gen(function* () {
        const sandbox = yield* Effect.promise(subject.start)
        const first = sandbox.stop()
        const second = sandbox.stop()
        assert.strictEqual(first, second)
        yield* Effect.promise(() => Promise.all([first, second]))
        const outcome = yield* Effect.promise(() =>
          fetch(sandbox.url).then(
            () => "answered",
            () => "refused"
          )
        )
        assert.strictEqual(outcome, "refused")
      })
    )
  })
}
