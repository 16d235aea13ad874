/**
 * The sandbox's update side: a queue of updates with increasing
 * `update_id`s, read by long polling (`getUpdates`, with its offset
 * semantics and its 409 conflicts) or delivered to a webhook (`setWebhook`:
 * the secret header, one update at a time per chat, redelivery of the same
 * update on a non-2xx answer or a timeout, with a backoff that doubles, or the
 * answer's `Retry-After`). Updates older than 24 hours (by the sandbox's
 * clock) are dropped.
 */
import type { QueuedUpdate, WebhookTiming } from "./model.ts"
import { type Answer, badRequest, fail, ok } from "./protocol.ts"

/** Updates are kept 24 hours. */
const EXPIRY_MS = 24 * 3600 * 1000

/** The longest a long poll waits, in seconds (the sandbox bounds it below Telegram's 50). */
const MAX_POLL_SECONDS = 50

/** One webhook delivery, as the sandbox logs it. */
export interface Delivery {
  readonly updateId: number
  readonly attempt: number
  /** The status answered, `timeout`, or `error` (connection refused or cut). */
  readonly outcome: number | "timeout" | "error"
  readonly at: Date
}

export interface Webhook {
  readonly url: string
  readonly secretToken: string | undefined
  readonly maxConnections: number
}

export interface Updates {
  /** The updates not yet confirmed (polling) or delivered (webhook), oldest first. */
  readonly pending: () => ReadonlyArray<QueuedUpdate>
  readonly enqueue: (chatId: number, payload: Readonly<Record<string, unknown>>) => QueuedUpdate
  readonly getUpdates: (params: Record<string, unknown>) => Promise<Answer>
  readonly setWebhook: (params: Record<string, unknown>) => Answer
  readonly deleteWebhook: (params: Record<string, unknown>) => Answer
  readonly getWebhookInfo: () => Answer
  readonly deliveries: ReadonlyArray<Delivery>
  readonly stop: () => void
}

const SECRET_TOKEN = /^[A-Za-z0-9_-]{1,256}$/

export const make = (now: () => number, timing: WebhookTiming = {}): Updates => {
  const timeoutMs = timing.timeoutMs ?? 2_000
  const retryBaseMs = timing.retryBaseMs ?? 100
  const retryMaxMs = timing.retryMaxMs ?? 2_000
  let queue: Array<QueuedUpdate> = []
  let nextUpdateId = 100_000_001
  let webhook: Webhook | undefined
  let lastError: { readonly date: number; readonly message: string } | undefined
  const deliveries: Array<Delivery> = []
  /** Chats with a delivery in flight, and chats waiting out a backoff (until, Unix ms). */
  const busy = new Set<number>()
  const backoff = new Map<number, number>()
  const timers = new Set<ReturnType<typeof setTimeout>>()
  let stopped = false
  /** The long poll waiting for an update: answering it ends it. */
  let poll: { readonly answer: (answer: Answer) => void } | undefined

  const expire = () => {
    const cutoff = now() - EXPIRY_MS
    queue = queue.filter((update) => update.queuedAt >= cutoff)
  }

  const later = (ms: number, run: () => void) => {
    if (stopped) return
    const timer = setTimeout(() => {
      timers.delete(timer)
      run()
    }, ms)
    timers.add(timer)
  }

  const deliver = async (hook: Webhook, update: QueuedUpdate) => {
    busy.add(update.chatId)
    update.attempts += 1
    let outcome: Delivery["outcome"]
    let retryAfter: number | undefined
    // A timer of our own (held until the answer), not `AbortSignal.timeout`, whose signal fetch may hold weakly.
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), timeoutMs)
    try {
      const response = await fetch(hook.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(hook.secretToken === undefined ? {} : { "x-telegram-bot-api-secret-token": hook.secretToken })
        },
        body: JSON.stringify(update.json),
        signal: controller.signal,
        redirect: "manual"
      })
      await response.body?.cancel().catch(() => undefined)
      outcome = response.status
      const header = response.headers.get("retry-after")
      const after = header === null || header.trim() === "" ? Number.NaN : Number(header)
      if (Number.isFinite(after) && after >= 0) retryAfter = Math.min(after * 1000, 3_600_000)
    } catch {
      outcome = controller.signal.aborted ? "timeout" : "error"
    } finally {
      clearTimeout(timer)
    }
    busy.delete(update.chatId)
    if (stopped) return
    deliveries.push({ updateId: update.updateId, attempt: update.attempts, outcome, at: new Date() })
    if (typeof outcome === "number" && outcome >= 200 && outcome <= 299) {
      queue = queue.filter((queued) => queued !== update)
    } else {
      lastError = {
        date: Math.floor(now() / 1000),
        message:
          typeof outcome === "number"
            ? `Wrong response from the webhook: ${outcome}`
            : `Connection ${outcome === "timeout" ? "timed out" : "failed"}`
      }
      // The first retry at once, then a pause that doubles; the answer's Retry-After instead, when it gave one.
      const pause =
        retryAfter ?? (update.attempts <= 1 ? 0 : Math.min(retryMaxMs, retryBaseMs * 2 ** (update.attempts - 2)))
      backoff.set(update.chatId, now() + pause)
      // The pause is over when its timer fires, whatever the clocks say.
      later(pause, () => {
        backoff.delete(update.chatId)
        pump()
      })
    }
    pump()
  }

  /** Starts a delivery for every chat that has a pending update and nothing in flight, up to `max_connections`. */
  const pump = () => {
    const hook = webhook
    if (hook === undefined || stopped) return
    expire()
    const started = new Set<number>()
    for (const update of queue) {
      if (busy.size >= hook.maxConnections) return
      if (busy.has(update.chatId) || started.has(update.chatId)) continue
      started.add(update.chatId)
      if ((backoff.get(update.chatId) ?? 0) > now()) continue
      void deliver(hook, update)
    }
  }

  const enqueue = (chatId: number, payload: Readonly<Record<string, unknown>>): QueuedUpdate => {
    const updateId = nextUpdateId++
    const update: QueuedUpdate = {
      updateId,
      queuedAt: now(),
      chatId,
      json: { update_id: updateId, ...payload },
      attempts: 0
    }
    queue.push(update)
    if (poll !== undefined) {
      const waiting = poll
      poll = undefined
      waiting.answer(ok(take(100)))
    }
    pump()
    return update
  }

  const take = (limit: number) => queue.slice(0, limit).map((update) => update.json)

  const getUpdates = (params: Record<string, unknown>): Promise<Answer> => {
    if (webhook !== undefined) {
      return Promise.resolve(
        fail(409, "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
      )
    }
    expire()
    const offset = typeof params.offset === "number" ? params.offset : Number(params.offset ?? 0)
    if (Number.isSafeInteger(offset) && offset > 0) queue = queue.filter((update) => update.updateId >= offset)
    else if (Number.isSafeInteger(offset) && offset < 0) queue = queue.slice(offset)
    const limit = Math.min(100, Math.max(1, Number(params.limit ?? 100) || 100))
    const timeout = Math.min(MAX_POLL_SECONDS, Math.max(0, Number(params.timeout ?? 0) || 0))
    // A newer request ends the one waiting.
    if (poll !== undefined) {
      const older = poll
      poll = undefined
      older.answer(fail(409, "terminated by other getUpdates request; make sure that only one bot instance is running"))
    }
    if (queue.length > 0 || timeout === 0 || stopped) return Promise.resolve(ok(take(limit)))
    return new Promise((resolve) => {
      let done = false
      const answer = (value: Answer) => {
        if (done) return
        done = true
        resolve(value)
      }
      const self = { answer }
      poll = self
      later(timeout * 1000, () => {
        if (poll === self) poll = undefined
        answer(ok(take(limit)))
      })
    })
  }

  const setWebhook = (params: Record<string, unknown>): Answer => {
    const url = typeof params.url === "string" ? params.url.trim() : ""
    if (url.length === 0) return deleteWebhook(params)
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) return badRequest("bad webhook: invalid URL")
    const secret = params.secret_token
    if (secret !== undefined && (typeof secret !== "string" || !SECRET_TOKEN.test(secret))) {
      return badRequest("secret token contains unallowed characters")
    }
    const max = Number(params.max_connections ?? 40)
    if (params.drop_pending_updates === true) queue = []
    webhook = {
      url,
      secretToken: secret as string | undefined,
      maxConnections: Number.isInteger(max) && max >= 1 && max <= 100 ? max : 40
    }
    if (poll !== undefined) {
      const waiting = poll
      poll = undefined
      waiting.answer(fail(409, "terminated by setWebhook request"))
    }
    pump()
    return ok(true)
  }

  const deleteWebhook = (params: Record<string, unknown>): Answer => {
    webhook = undefined
    backoff.clear()
    if (params.drop_pending_updates === true) queue = []
    return ok(true)
  }

  const getWebhookInfo = (): Answer => {
    expire()
    return ok({
      url: webhook?.url ?? "",
      has_custom_certificate: false,
      pending_update_count: queue.length,
      ...(webhook === undefined ? {} : { max_connections: webhook.maxConnections }),
      ...(lastError === undefined ? {} : { last_error_date: lastError.date, last_error_message: lastError.message })
    })
  }

  return {
    pending: () => queue,
    enqueue,
    getUpdates,
    setWebhook,
    deleteWebhook,
    getWebhookInfo,
    deliveries,
    stop: () => {
      stopped = true
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      poll?.answer(ok([]))
      poll = undefined
    }
  }
}
