import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Stream } from "effect"
import fc from "fast-check"
import * as OrderedWindow from "../src/internal/orderedWindow.ts"

/** Elements whose work ends when the test says so, with what started and what runs now. */
const controlled = (count: number) =>
  Effect.gen(function* () {
    const gates = yield* Effect.forEach(Array.from({ length: count }), () => Deferred.make<void>())
    const started: Array<number> = []
    let running = 0
    let mostRunning = 0
    const f = (n: number) =>
      Effect.gen(function* () {
        started.push(n)
        running++
        mostRunning = Math.max(mostRunning, running)
        yield* Deferred.await(gates[n] as Deferred.Deferred<void>)
        running--
        return n
      })
    const open = (n: number) => Deferred.succeed(gates[n] as Deferred.Deferred<void>, undefined)
    return { f, open, started, mostRunning: () => mostRunning }
  })

describe("OrderedWindow.mapEffect", () => {
  it.effect("a slow first element does not hold the other slots: the rest of the window runs meanwhile", () =>
    Effect.gen(function* () {
      const { f, open, started } = yield* controlled(40)
      const fiber = yield* Stream.fromIterable(Array.from({ length: 40 }, (_, n) => n)).pipe(
        (source) => OrderedWindow.mapEffect(source, f, { concurrency: 4, window: 10 }),
        Stream.runCollect,
        Effect.forkChild
      )
      yield* Effect.yieldNow
      // Everything but the first ends at once: 9 more start (the window), not 3 (the concurrency), and no more.
      for (let n = 1; n < 40; n++) yield* open(n)
      for (let turn = 0; turn < 20; turn++) yield* Effect.yieldNow
      assert.deepStrictEqual(
        started,
        Array.from({ length: 10 }, (_, n) => n)
      )
      yield* open(0)
      const results = yield* Fiber.join(fiber)
      assert.deepStrictEqual(
        results,
        Array.from({ length: 40 }, (_, n) => n)
      )
    })
  )

  it.effect("Effect's ordered mapEffect, for contrast, starts nothing past its concurrency behind a slow element", () =>
    Effect.gen(function* () {
      const { f, open, started } = yield* controlled(40)
      const fiber = yield* Stream.fromIterable(Array.from({ length: 40 }, (_, n) => n)).pipe(
        Stream.mapEffect(f, { concurrency: 4 }),
        Stream.runCollect,
        Effect.forkChild
      )
      yield* Effect.yieldNow
      for (let n = 1; n < 40; n++) yield* open(n)
      for (let turn = 0; turn < 20; turn++) yield* Effect.yieldNow
      assert.isAtMost(started.length, 5)
      yield* open(0)
      yield* Fiber.join(fiber)
    })
  )

  it.live("emits in input order, runs at most `concurrency` at once, for any latencies (property)", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 0, maxLength: 60 }),
          fc.integer({ min: 1, max: 6 }),
          fc.integer({ min: 1, max: 20 }),
          async (delays, concurrency, window) => {
            let running = 0
            let mostRunning = 0
            const f = (n: number) =>
              Effect.suspend(() => {
                running++
                mostRunning = Math.max(mostRunning, running)
                return Effect.sleep(delays[n] as number).pipe(
                  Effect.ensuring(Effect.sync(() => running--)),
                  Effect.as(n)
                )
              })
            const results = await Effect.runPromise(
              Stream.runCollect(
                OrderedWindow.mapEffect(Stream.fromIterable(delays.map((_, n) => n)), f, { concurrency, window })
              )
            )
            assert.deepStrictEqual(
              results,
              delays.map((_, n) => n)
            )
            assert.isAtMost(mostRunning, concurrency)
          }
        ),
        { numRuns: 60 }
      )
    )
  )

  it.effect("starts elements only as the window moves: an endless source works", () =>
    Effect.gen(function* () {
      let started = 0
      const endless = Stream.fromIterable(
        (function* () {
          for (let n = 0; ; n++) yield n
        })()
      )
      const first = yield* Stream.runCollect(
        OrderedWindow.mapEffect(
          endless,
          (n) =>
            Effect.sync(() => {
              started++
              return n * 2
            }),
          { concurrency: 3, window: 6 }
        ).pipe(Stream.take(5))
      )
      assert.deepStrictEqual(first, [0, 2, 4, 6, 8])
      assert.isAtMost(started, 5 + 6 + 3)
    })
  )

  it.effect("a failing source fails the stream after the results before it", () =>
    Effect.gen(function* () {
      const source = Stream.concat(Stream.fromIterable([1, 2, 3]), Stream.fail("source broke"))
      const exit = yield* Effect.exit(
        Stream.runCollect(OrderedWindow.mapEffect(source, (n) => Effect.succeed(n), { concurrency: 2, window: 4 }))
      )
      assert.isTrue(exit._tag === "Failure")
    })
  )

  it.effect("interruption stops every element, the waiting ones included", () =>
    Effect.gen(function* () {
      const { f, started } = yield* controlled(30)
      const fiber = yield* Stream.fromIterable(Array.from({ length: 30 }, (_, n) => n)).pipe(
        (source) => OrderedWindow.mapEffect(source, f, { concurrency: 4, window: 8 }),
        Stream.runCollect,
        Effect.forkChild
      )
      for (let turn = 0; turn < 10; turn++) yield* Effect.yieldNow
      yield* Fiber.interrupt(fiber)
      assert.isAtMost(started.length, 4)
    })
  )
})
