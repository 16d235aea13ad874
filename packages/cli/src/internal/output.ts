/**
 * Printing: results on stdout, everything else on stderr, and never a secret
 * (every line is scrubbed of the secret settings' values, which print as
 * `<redacted>`).
 */
import { HttpTransport } from "@reword/core"
import { Console, type Effect, Redacted } from "effect"

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
  readonly addSecrets: (secrets: ReadonlyArray<Redacted.Redacted<string>>) => void
}

/** An output that scrubs the given secrets (and any added later) from every line. */
export const make = (options: {
  readonly json: boolean
  readonly secrets?: ReadonlyArray<Redacted.Redacted<string>> | undefined
}): Output => {
  const secrets: Array<Redacted.Redacted<string>> = []
  const addSecrets = (more: ReadonlyArray<Redacted.Redacted<string>>) => {
    for (const secret of more) {
      const value = Redacted.value(secret)
      // The JSON-escaped form too, so that a secret with a quote or a backslash is caught inside JSON.
      secrets.push(secret, Redacted.make(JSON.stringify(value).slice(1, -1)))
    }
  }
  addSecrets(options.secrets ?? [])
  const clean = (line: string) => HttpTransport.scrub(line, secrets)
  return {
    json: options.json,
    out: (line) => Console.log(clean(line)),
    outJson: (value) => Console.log(clean(JSON.stringify(value))),
    err: (line) => Console.error(clean(line)),
    addSecrets
  }
}
