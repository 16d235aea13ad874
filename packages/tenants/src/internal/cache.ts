/**
 * A bounded cache of scoped values built on demand, by key: least recently
 * used first out past `maxSize`, and out when idle for `idleMs`. A value is
 * built once however many ask at once; a failed build is not kept. A value
 * is disposed (its scope closed, in the background) when it leaves the
 * cache, or when its last lease ends if it was in use then; a value still
 * being built is never evicted.
 */
import { Clock, Deferred, Duration, Effect, Exit, Scope } from "effect"

interface Entry<V, E> {
  readonly key: string
  readonly scope: Scope.Closeable
  readonly ready: Deferred.Deferred<V, E>
  built: boolean
  lastUsed: number
  leases: number
  retired: boolean
}

export interface Cache<V, E> {
  /** The value of `key`, built when missing; `lease` holds it until `release`. */
  readonly get: (
    key: string,
    lease: boolean
  ) => Effect.Effect<{ readonly value: Effect.Effect<V, E>; readonly release: Effect.Effect<void> }>
  /** Takes `key` out of the cache (disposed once not in use). */
  readonly evict: (key: string) => Effect.Effect<void>
  readonly stats: Effect.Effect<{ readonly alive: number; readonly built: number; readonly disposed: number }>
}

export const make = <V, E>(options: {
  readonly maxSize: number
  readonly idleMs: number
  readonly build: (key: string, scope: Scope.Scope) => Effect.Effect<V, E>
}): Effect.Effect<Cache<V, E>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const owner = yield* Effect.scope
    const entries = new Map<string, Entry<V, E>>()
    let built = 0
    let disposed = 0

    const dispose = (entry: Entry<V, E>) =>
      Effect.asVoid(
        Effect.forkIn(
          Effect.ensuring(
            Scope.close(entry.scope, Exit.void),
            Effect.sync(() => {
              disposed++
            })
          ),
          owner
        )
      )

    const evictEntry = (entry: Entry<V, E>) =>
      Effect.suspend(() => {
        if (entries.get(entry.key) === entry) entries.delete(entry.key)
        if (entry.retired) return Effect.void
        entry.retired = true
        return entry.leases === 0 ? dispose(entry) : Effect.void
      })

    const idle = (entry: Entry<V, E>) => entry.leases === 0 && entry.built

    /** Evicts the least recently used idle entries while the cache is over its size. */
    const trim = Effect.suspend(() => {
      const victims: Array<Entry<V, E>> = []
      let over = entries.size - options.maxSize
      for (const entry of entries.values()) {
        if (over <= 0) break
        if (idle(entry)) {
          victims.push(entry)
          over--
        }
      }
      return Effect.forEach(victims, evictEntry, { discard: true })
    })

    const sweep = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.forEach(
        [...entries.values()].filter((entry) => idle(entry) && now - entry.lastUsed >= options.idleMs),
        evictEntry,
        { discard: true }
      )
    )
    yield* Effect.forkIn(
      Effect.forever(Effect.andThen(Effect.sleep(Duration.millis(Math.max(5, Math.floor(options.idleMs / 2)))), sweep)),
      owner
    )
    yield* Effect.addFinalizer(() =>
      Effect.forEach([...entries.values()], (entry) => Scope.close(entry.scope, Exit.void), { discard: true })
    )

    const create = (key: string, now: number) =>
      Effect.gen(function* () {
        const entry: Entry<V, E> = {
          key,
          scope: yield* Scope.make(),
          ready: yield* Deferred.make<V, E>(),
          built: false,
          lastUsed: now,
          leases: 0,
          retired: false
        }
        entries.set(key, entry)
        const done = (exit: Exit.Exit<V, E>) =>
          Effect.andThen(
            Effect.suspend(() => {
              entry.built = true
              if (Exit.isSuccess(exit)) built++
              // A failed build is not kept: the next use tries again.
              return Exit.isSuccess(exit) ? trim : evictEntry(entry)
            }),
            Deferred.done(entry.ready, exit)
          )
        yield* Effect.forkIn(Effect.flatMap(Effect.exit(options.build(key, entry.scope)), done), owner)
        return entry
      })

    const release = (entry: Entry<V, E>) =>
      Effect.suspend(() => {
        entry.leases--
        if (entry.retired && entry.leases === 0) return dispose(entry)
        return entry.leases === 0 ? trim : Effect.void
      })

    return {
      get: (key, lease) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          let entry = entries.get(key)
          if (entry === undefined) entry = yield* create(key, now)
          else {
            entries.delete(key)
            entries.set(key, entry)
          }
          entry.lastUsed = now
          if (lease) entry.leases++
          yield* trim
          const held = entry
          return { value: Deferred.await(held.ready), release: lease ? release(held) : Effect.void }
        }),
      evict: (key) =>
        Effect.suspend(() => {
          const entry = entries.get(key)
          return entry === undefined ? Effect.void : evictEntry(entry)
        }),
      stats: Effect.sync(() => ({ alive: entries.size, built, disposed }))
    }
  })
