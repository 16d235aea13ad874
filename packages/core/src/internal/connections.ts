/**
 * Connections per host, two ways. A first-come-first-served semaphore per
 * origin caps the requests a transport has in flight, whatever `fetch` it
 * uses, and makes the wait part of the request's time (its timeout's signal
 * takes it out of the queue). With the global `fetch`, a connection pool of
 * the transport's own (an undici `Agent`) also caps the sockets per origin:
 * the semaphore alone cannot, as fetch frees a kept-alive socket a moment after
 * the answer's last byte is read, and the next request would open another.
 *
 * @internal
 */
import type { Dispatcher } from "undici"

interface Waiter {
  readonly resolve: () => void
  readonly reject: (reason: unknown) => void
  readonly signal: AbortSignal
  readonly onAbort: () => void
  /** Set when the waiter left the queue (granted or aborted). */
  done: boolean
}

interface Origin {
  active: number
  /** Waiters in arrival order; `head` is the next one (shifting 5,000 waiters one by one would be quadratic). */
  readonly queue: Array<Waiter>
  head: number
}

/**
 * A per-origin cap of requests in flight.
 */
export interface ConnectionLimit {
  /** The cap. */
  readonly max: number
  /** Takes a slot at once when one is free. */
  readonly tryAcquire: (origin: string) => boolean
  /** Waits for a slot; rejects with the signal's reason, holding nothing, when it aborts first. */
  readonly acquire: (origin: string, signal: AbortSignal) => Promise<void>
  /** Gives a slot back: to the next waiter, or to the pool. */
  readonly release: (origin: string) => void
  /** Requests in flight and waiting, per origin (for tests). */
  readonly stats: (origin: string) => { readonly active: number; readonly waiting: number }
}

/**
 * A cap of `max` requests in flight per origin.
 */
export const make = (max: number): ConnectionLimit => {
  const origins = new Map<string, Origin>()

  const stateOf = (origin: string): Origin => {
    let state = origins.get(origin)
    if (state === undefined) {
      state = { active: 0, queue: [], head: 0 }
      origins.set(origin, state)
    }
    return state
  }

  /** Forgets an origin nothing uses, so the map holds only the hosts in use. */
  const forgetIfIdle = (origin: string, state: Origin) => {
    if (state.active === 0 && state.head >= state.queue.length) origins.delete(origin)
  }

  const tryAcquire = (origin: string): boolean => {
    const state = stateOf(origin)
    if (state.active < max && state.head >= state.queue.length) {
      state.active++
      return true
    }
    return false
  }

  const acquire = (origin: string, signal: AbortSignal): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason)
        return
      }
      if (tryAcquire(origin)) {
        resolve()
        return
      }
      const state = stateOf(origin)
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        done: false,
        onAbort: () => {
          if (waiter.done) return
          waiter.done = true
          compact(state)
          forgetIfIdle(origin, state)
          reject(signal.reason)
        }
      }
      signal.addEventListener("abort", waiter.onAbort, { once: true })
      state.queue.push(waiter)
    })

  /** Drops the waiters that left the front of the queue, and the array's dead head once it is large. */
  const compact = (state: Origin) => {
    while (state.head < state.queue.length && (state.queue[state.head] as Waiter).done) state.head++
    if (state.head > 1024 && state.head * 2 > state.queue.length) {
      state.queue.splice(0, state.head)
      state.head = 0
    }
  }

  const release = (origin: string): void => {
    const state = origins.get(origin)
    if (state === undefined) return
    compact(state)
    const next = state.queue[state.head]
    if (next !== undefined) {
      // The slot passes to the next waiter: `active` stays as it is.
      next.done = true
      state.head++
      next.signal.removeEventListener("abort", next.onAbort)
      compact(state)
      next.resolve()
      return
    }
    state.active--
    forgetIfIdle(origin, state)
  }

  const stats = (origin: string) => {
    const state = origins.get(origin)
    if (state === undefined) return { active: 0, waiting: 0 }
    let waiting = 0
    for (let i = state.head; i < state.queue.length; i++) if (!(state.queue[i] as Waiter).done) waiting++
    return { active: state.active, waiting }
  }

  return { max, tryAcquire, acquire, release, stats }
}

let undici: Promise<typeof import("undici")> | undefined

const GLOBAL_DISPATCHER = Symbol.for("undici.globalDispatcher.1")

/**
 * Whether the app routes fetch through a dispatcher of its own: a proxy
 * (`setGlobalDispatcher(new ProxyAgent(...))`, Node's `NODE_USE_ENV_PROXY`),
 * a mock. Its requests are left to it; only Node's default `Agent` is replaced.
 */
/** `NODE_USE_ENV_PROXY`, read once: Node itself reads it at start-up only, and `process.env` is slow to read per request. */
let envProxy: boolean | undefined
const appDispatcher = (): boolean => {
  if (envProxy === undefined) {
    const env = globalThis.process?.env?.NODE_USE_ENV_PROXY
    envProxy = env !== undefined && env !== "" && env !== "0"
  }
  if (envProxy) return true
  const current = (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER] as
    | { readonly constructor?: { readonly name?: string } }
    | undefined
  return current !== undefined && current.constructor?.name !== "Agent"
}

/**
 * The global `fetch` over a connection pool of its own that opens at most
 * `connections` sockets per origin (an undici `Agent`, the `undici` that Node
 * bundles, loaded on the first request so that importing reword stays cheap).
 * The global `fetch` is read at each call, so instrumentation that replaces it
 * still sees every request; an app's own global dispatcher (a proxy, a mock)
 * is left in charge.
 */
export const pooledFetch = (connections: number): typeof globalThis.fetch => {
  let dispatcher: Dispatcher | undefined
  return async (input, init) => {
    if (appDispatcher()) return globalThis.fetch(input, init)
    if (dispatcher === undefined) {
      undici ??= import("undici")
      const { Agent } = await undici
      dispatcher ??= new Agent({ connections })
    }
    // Node's fetch takes a `dispatcher` beside the standard fields.
    return globalThis.fetch(input, { ...init, dispatcher } as RequestInit)
  }
}
