/**
 * `reword update` with the request in flags: one message, one `update`.
 */
import type { MessageEditor } from "@reword/core"
import { Effect, Result, type Scope } from "effect"
import { CommandFailed } from "../exit.ts"
import * as Render from "../render.ts"
import * as Requests from "../requests.ts"
import { type Rehearsal, rehearsalJson, seed, startSandbox, storedLine } from "./rehearsal.ts"
import { editorOf, errorJson, exitCodeOf, type LineOutcome, printError, type Run, unexpectedOf } from "./run.ts"

/** One message, from the flags. */
export const updateOne = (run: Run): Effect.Effect<void, CommandFailed, Scope.Scope> =>
  Effect.gen(function* () {
    const { input, output } = run
    const request = Requests.fromFlags(input)
    let rehearsal: Rehearsal | undefined
    let editor: MessageEditor.Service
    if (input.sandbox) {
      const sandbox = yield* startSandbox(run)
      rehearsal = yield* seed(run, sandbox, request.ids)
      if (!output.json && rehearsal.seeded !== undefined) {
        yield* output.out(`sandbox: before: ${storedLine(rehearsal.before)}`)
      }
      editor = yield* editorOf(run, sandbox.env, true)
    } else {
      editor = yield* editorOf(run, run.env, false)
    }
    const result: LineOutcome = yield* Effect.result(
      editor
        .update(request)
        .pipe(Effect.catchDefect((defect) => Effect.fail(unexpectedOf(editor.provider, "update")(defect))))
    )
    const extra = rehearsal === undefined ? {} : rehearsalJson(rehearsal)
    if (output.json) {
      yield* output.outJson(
        Result.isSuccess(result)
          ? { ...Render.messageJson(result.success), ...extra }
          : { ...errorJson(result.failure), ...extra }
      )
    }
    if (Result.isSuccess(result)) {
      if (!output.json) {
        yield* output.out(Render.updatedLine(Render.messageJson(result.success)))
        const note = Render.successNote(editor.provider)
        if (note !== undefined) yield* output.err(note)
      }
    } else {
      yield* printError(run, result.failure)
    }
    if (!output.json && rehearsal?.seeded !== undefined) {
      yield* output.out(`sandbox: after: ${storedLine(rehearsal.sandbox.inspect(rehearsal.seeded))}`)
    }
    if (Result.isFailure(result)) {
      return yield* new CommandFailed({ exitCode: exitCodeOf(result.failure), summary: result.failure.message })
    }
  })
