/**
 * Counts the SQL statements an effect runs, through effect/sql's own spans
 * (every statement is a span carrying its text as `db.query.text`): a tracer
 * that records those texts, and nothing else.
 */
import { Effect, Tracer } from "effect"

export interface Counter {
  /** The text of every statement run so far, in order. */
  readonly statements: Array<string>
  readonly tracer: Tracer.Tracer
}

export const make = (): Counter => {
  const statements: Array<string> = []
  class Counted extends Tracer.NativeSpan {
    override attribute(key: string, value: unknown): void {
      if (key === "db.query.text") statements.push(String(value))
      super.attribute(key, value)
    }
  }
  return { statements, tracer: Tracer.make({ span: (options) => new Counted(options) }) }
}

/** Runs `effect` (and every fiber it forks) under the counter's tracer. */
export const counted =
  (counter: Counter) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.withTracer(effect, counter.tracer)
