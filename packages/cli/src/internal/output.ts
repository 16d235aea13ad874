/**
 * Printing: results on stdout, everything else on stderr, and never a secret
 * nor a control sequence. Every line is scrubbed of every known secret, in
 * every common encoding (a live `Secrets` set: the secret settings, and the
 * tokens read from the token file or refreshed during the run, as they become
 * known), then made safe for a terminal (`terminal.ts`): provider text cannot
 * drive the terminal, forge another line, or break a JSON line.
 */
import { Secrets } from "@reword/core/adapter"
import { Console, Effect, type Redacted } from "effect"
import { safe, sanitizing } from "./terminal.ts"

/** Where the command prints. */
export interface Output {
  /** Whether stdout holds JSON only. */
  readonly json: boolean
  /** A line on stdout. */
  readonly out: (line: string) => Effect.Effect<void>
  /** A value as one JSON line on stdout. */
  readonly outJson: (value: unknown) => Effect.Effect<void>
  /** A line on stderr. */
  readonly err: (line: string) => Effect.Effect<void>
  /** Adds values that must never be printed. */
  readonly addSecrets: (secrets: Iterable<Redacted.Redacted<string>>) => void
  /** The live set of secrets this output scrubs. */
  readonly secrets: Secrets.Secrets
  /** Text as it may be printed: scrubbed, then escaped (`lines`: newlines kept). */
  readonly clean: (text: string, options?: { readonly lines?: boolean }) => string
  /** Runs an effect with every console write within it (logs included) scrubbed and escaped. */
  readonly guard: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** An output that scrubs the given secrets (and any added later) from every line. */
export const make = (options: {
  readonly json: boolean
  readonly secrets?: Iterable<Redacted.Redacted<string>> | Secrets.Secrets | undefined
}): Output => {
  const secrets = Secrets.isSecrets(options.secrets) ? options.secrets : Secrets.make(options.secrets)
  const clean = (text: string, cleanOptions: { readonly lines?: boolean } = {}) =>
    safe(secrets.size === 0 ? text : secrets.scrub(text), cleanOptions)
  const stringify = (value: unknown): string => {
    try {
      return JSON.stringify(value)
    } catch {
      return JSON.stringify({ error: { reason: "Unexpected", message: "the result could not be written as JSON" } })
    }
  }
  return {
    json: options.json,
    out: (line) => Console.log(clean(line)),
    outJson: (value) => Console.log(clean(stringify(value))),
    err: (line) => Console.error(clean(line)),
    addSecrets: (more) => {
      secrets.addAll(more)
    },
    secrets,
    clean,
    guard: (effect) =>
      Console.consoleWith((base) =>
        Effect.provideService(
          effect,
          Console.Console,
          sanitizing(base, (text) => clean(text, { lines: true }))
        )
      )
  }
}
