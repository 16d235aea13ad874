/**
 * `reword update --from`: many messages, one JSON request per line of a file
 * (or stdin). Lines are read as a stream, in batches of `--batch-size` (the
 * cadence of the progress line); each batch's valid requests go through the
 * editor's `updateStream`, so grouping into provider calls, concurrency and
 * one outcome per request in order stay core's.
 */
import { EditError, type EditRequest, type MessageEditor } from "@reword/core"
import { Effect, FileSystem, Option, Result, type Scope, Stdio, Stream } from "effect"
import { CommandFailed, ExitCode } from "../exit.ts"
import * as Render from "../render.ts"
import * as Requests from "../requests.ts"
import * as Unexpected from "../unexpected.ts"
import { type Rehearsal, rehearsalJson, seed, startSandbox } from "./rehearsal.ts"
import {
  badInput,
  editorOf,
  errorJson,
  exitCodeOf,
  type Failure,
  hintOf,
  type LineOutcome,
  type Run,
  unexpectedOf
} from "./run.ts"

/** The request lines of a `--from` source, numbered from 1, blank lines left out. */
const linesOf = (
  source: string
): Stream.Stream<readonly [line: string, number: number], unknown, FileSystem.FileSystem | Stdio.Stdio> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const bytes =
        source === "-"
          ? (yield* Stdio.Stdio).stdin
          : Stream.unwrap(Effect.map(FileSystem.FileSystem, (fs) => fs.stream(source)))
      return bytes.pipe(
        Stream.decodeText,
        Stream.splitLines,
        Stream.zipWithIndex,
        Stream.map(([line, index]) => [line, index + 1] as const),
        Stream.filter(([line]) => line.trim().length > 0)
      )
    })
  )

/** How many request lines a regular file holds (`undefined` for stdin and pipes: not known ahead). */
const countLines = (source: string): Effect.Effect<number | undefined, unknown, FileSystem.FileSystem | Stdio.Stdio> =>
  Effect.gen(function* () {
    if (source === "-") return undefined
    const fs = yield* FileSystem.FileSystem
    const info = yield* fs.stat(source)
    if (info.type !== "File") return undefined
    return yield* Stream.runCount(linesOf(source))
  })

const readErrorMessage = (source: string, error: unknown): string => {
  const detail = error instanceof Error ? error.message : String(error)
  return source === "-" ? `could not read the requests from stdin: ${detail}` : `could not read ${source}: ${detail}`
}

/**
 * Every request's outcome, in order, through `updateStream`; should the
 * stream die as a whole (a bug), the requests it had not answered yet go again
 * each on its own (never one it answered: it may have landed), so that one
 * request's defect is that request's outcome and never loses another's.
 */
const editAll = (
  editor: MessageEditor.Service,
  requests: ReadonlyArray<EditRequest.EditRequest>
): Effect.Effect<ReadonlyArray<LineOutcome>> =>
  Effect.suspend(() => {
    const answered: Array<LineOutcome> = []
    const one = (request: EditRequest.EditRequest) =>
      Effect.result(
        editor
          .update(request)
          .pipe(Effect.catchDefect((defect) => Effect.fail(unexpectedOf(editor.provider, "updateMany")(defect))))
      )
    return Stream.runForEach(editor.updateStream(requests), (outcome) =>
      Effect.sync(() => answered.push(outcome))
    ).pipe(
      Effect.andThen(
        Effect.sync(() =>
          requests.map(
            (_, index): LineOutcome =>
              answered[index] ??
              Result.fail(
                new Unexpected.Unexpected({
                  provider: editor.provider,
                  operation: "updateMany",
                  detail: "the editor answered no outcome for this request"
                })
              )
          )
        )
      ),
      Effect.catchDefect(() =>
        Effect.map(
          Effect.forEach(requests.slice(answered.length), one, { concurrency: 4 }),
          (rest): ReadonlyArray<LineOutcome> => [...answered, ...rest]
        )
      )
    )
  })

/** The counts of a run, by outcome. */
interface Counts {
  updated: number
  invalid: number
  providerFailed: number
  unexpected: number
}

const failedOf = (counts: Counts): number => counts.invalid + counts.providerFailed + counts.unexpected

/** The exit of a run, from its counts: 1 if any unexpected, else 3 if any provider failure, else 2 if any invalid. */
const finalExit = (counts: Counts): Effect.Effect<void, CommandFailed> => {
  if (counts.unexpected > 0) {
    return Effect.fail(
      new CommandFailed({
        exitCode: ExitCode.Unexpected,
        summary: `${counts.unexpected} lines met an unexpected error`
      })
    )
  }
  if (counts.providerFailed > 0) {
    return Effect.fail(
      new CommandFailed({
        exitCode: ExitCode.ProviderFailure,
        summary: `${counts.providerFailed} lines failed at the provider`
      })
    )
  }
  if (counts.invalid > 0) {
    return Effect.fail(
      new CommandFailed({ exitCode: ExitCode.BadInput, summary: `${counts.invalid} lines were invalid` })
    )
  }
  return Effect.void
}

/** Many messages, one request per line of a file (or stdin). */
export const updateFrom = (
  run: Run,
  source: string
): Effect.Effect<void, CommandFailed, Scope.Scope | FileSystem.FileSystem | Stdio.Stdio> =>
  Effect.gen(function* () {
    const { input, output } = run
    const total = yield* countLines(source).pipe(
      Effect.catch((error) =>
        badInput(run, "Usage", readErrorMessage(source, error), "check the path given to --from (or use - for stdin)")
      )
    )
    if (source === "-" && (yield* (yield* Stdio.Stdio).stdinIsTerminal)) {
      yield* output.err("reading the requests from the terminal, one JSON request per line (Ctrl-D to end)")
    }
    const sandbox = input.sandbox ? yield* startSandbox(run) : undefined
    const editor = yield* editorOf(run, sandbox === undefined ? run.env : sandbox.env, sandbox !== undefined)

    const counts: Counts = { updated: 0, invalid: 0, providerFailed: 0, unexpected: 0 }
    const reasons = new Map<string, Failure>()

    const report = (number: number, outcome: LineOutcome, rehearsal: Rehearsal | undefined) =>
      Effect.gen(function* () {
        const extra = rehearsal === undefined ? {} : rehearsalJson(rehearsal)
        if (Result.isSuccess(outcome)) {
          counts.updated += 1
          const message = Render.messageJson(outcome.success)
          if (output.json) yield* output.outJson({ line: number, ...message, ...extra })
          else yield* output.out(`line ${number}: ${Render.updatedLine(message)}`)
          return
        }
        const error = outcome.failure
        const code = exitCodeOf(error)
        if (code === ExitCode.Unexpected) counts.unexpected += 1
        else if (code === ExitCode.BadInput) counts.invalid += 1
        else counts.providerFailed += 1
        const tag = error._tag === "Unexpected" ? "Unexpected" : error.reason._tag
        if (!reasons.has(tag)) reasons.set(tag, error)
        if (output.json) yield* output.outJson({ line: number, ...errorJson(error), ...extra })
        else yield* output.err(`line ${number}: error: ${error.message}`)
      })

    const runBatch = (batch: ReadonlyArray<readonly [string, number]>) =>
      Effect.gen(function* () {
        const parsed = yield* Effect.forEach(batch, ([line]) => Effect.result(Requests.fromJsonLine(line)))
        const ready: Array<{ readonly position: number; readonly request: EditRequest.EditRequest }> = []
        const outcomes: Array<LineOutcome> = new Array(batch.length)
        const rehearsals: Array<Rehearsal | undefined> = new Array(batch.length)
        for (const [position, result] of parsed.entries()) {
          if (Result.isSuccess(result)) ready.push({ position, request: result.success })
          else {
            outcomes[position] = Result.fail(
              EditError.make({ provider: editor.provider, operation: "updateMany", reason: result.failure })
            )
          }
        }
        if (sandbox !== undefined) {
          for (const entry of ready) {
            const number = batch[entry.position]?.[1] ?? 0
            rehearsals[entry.position] = yield* seed(run, sandbox, entry.request.ids, `line ${number}: `)
          }
        }
        const edited = yield* editAll(
          editor,
          ready.map((entry) => entry.request)
        )
        ready.forEach((entry, index) => {
          const outcome = edited[index]
          if (outcome !== undefined) outcomes[entry.position] = outcome
        })
        for (const [position, [, number]] of batch.entries()) {
          const outcome = outcomes[position]
          if (outcome !== undefined) yield* report(number, outcome, rehearsals[position])
        }
        yield* output.err(
          `updated ${counts.updated}${total === undefined ? "" : `/${total}`}, failed ${failedOf(counts)}`
        )
      })

    const readFailure = yield* linesOf(source).pipe(
      Stream.grouped(input.batchSize),
      Stream.runForEach(runBatch),
      Effect.match({ onFailure: (error) => Option.some(error), onSuccess: () => Option.none<unknown>() })
    )

    const failed = failedOf(counts)
    const processed = counts.updated + failed
    if (processed === 0 && Option.isNone(readFailure)) yield* output.err("updated 0, failed 0: no request lines")
    if (!output.json) {
      for (const [tag, error] of reasons) yield* output.err(`hint (${tag}): ${hintOf(run, error)}`)
      const note = Render.successNote(editor.provider)
      if (note !== undefined && counts.updated > 0) yield* output.err(note)
    }
    yield* output.err(
      `done: updated ${counts.updated} of ${processed}, failed ${failed} (${counts.invalid} invalid, ${counts.providerFailed} refused or failed by the provider${counts.unexpected > 0 ? `, ${counts.unexpected} unexpected` : ""})`
    )
    if (Option.isSome(readFailure)) {
      const message = readErrorMessage(source, readFailure.value)
      yield* output.err(`error: ${message}`)
      return yield* new CommandFailed({
        exitCode:
          counts.unexpected > 0
            ? ExitCode.Unexpected
            : counts.providerFailed > 0
              ? ExitCode.ProviderFailure
              : ExitCode.BadInput,
        summary: message
      })
    }
    return yield* finalExit(counts)
  })
