import { Refusal } from "@reword/core/adapter"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"

class HookRefused extends Refusal.Class("HookRefused", "Example hook") {}

describe("Refusal.Class", () => {
  const refusal = new HookRefused({ problem: "Forbidden", description: "no secret header" })

  it("is an Error tagged and named for the decoder, with a reason to match on", () => {
    expect(refusal).toBeInstanceOf(Error)
    expect(refusal).toBeInstanceOf(HookRefused)
    expect(refusal._tag).toBe("HookRefused")
    expect(refusal.name).toBe("HookRefused")
    expect(refusal.reason).toEqual({ _tag: "Forbidden" })
    expect(refusal.message).toBe("Example hook refused: Forbidden: no secret header")
    expect(String(refusal)).toBe("HookRefused: Example hook refused: Forbidden: no secret header")
  })

  it("serialises with its message and reason, and nothing else", () => {
    expect(JSON.parse(JSON.stringify(refusal))).toEqual({
      _tag: "HookRefused",
      name: "HookRefused",
      message: "Example hook refused: Forbidden: no secret header",
      reason: { _tag: "Forbidden" }
    })
  })

  it("fails an Effect as a typed error, matched by its tag", () => {
    const exit = Effect.runSyncExit(
      Effect.catchTag(Effect.fail(refusal), "HookRefused", (error) => Effect.succeed(error.reason._tag))
    )
    expect(exit).toEqual(Exit.succeed("Forbidden"))
  })
})
