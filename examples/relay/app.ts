/**
 * An example two-way relay between a Telegram bot and a Bitrix24 open line,
 * to copy: one HTTP server with two routes (`/telegram`, Telegram's webhook;
 * `/bitrix24`, the portal's event handler), an outbox and the relay's inbox
 * in one database (a SQLite file by default, PostgreSQL with a URL).
 *
 * Run against the sandboxes with `pnpm demo relay`; against real accounts
 * with the environment below (`node --conditions=@reword/source
 * examples/relay/app.ts`). Without a public address, leave
 * `TELEGRAM_WEBHOOK_URL` unset: the app then reads Telegram with
 * `getUpdates` (Bitrix24 still needs a public address to post its events).
 *
 * | variable | meaning |
 * |---|---|
 * | `TELEGRAM_BOT_TOKEN`, `TELEGRAM_API_URL` | the bot (the API URL only for a sandbox) |
 * | `TELEGRAM_WEBHOOK_SECRET` | the webhook's `secret_token` (A-Z, a-z, 0-9, `_`, `-`) |
 * | `TELEGRAM_WEBHOOK_URL` | the public URL of `/telegram` (set with `setWebhook` at start); unset: `getUpdates` |
 * | `BITRIX24_PORTAL_URL`, `..._ACCESS_TOKEN`, `..._REFRESH_TOKEN`, `..._CLIENT_ID`, `..._CLIENT_SECRET`, `..._CONNECTOR`, `..._LINE` | the portal, as `@reword/bitrix24` names them |
 * | `BITRIX24_MEMBER_ID`, `BITRIX24_APPLICATION_TOKEN` | the portal's id and the token its events carry |
 * | `RELAY_DATABASE` | a SQLite file (default `relay.db`) or a `postgres://` URL |
 * | `RELAY_WORKER_ID` | this copy's worker id (each copy its own): restarted, it takes back the events it held |
 * | `PORT` | the HTTP port (default 8080) |
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Bitrix24, Bitrix24Client, type Bitrix24Config } from "@reword/bitrix24"
import { Outbox, sqliteClient } from "@reword/outbox"
import { pgClient } from "@reword/outbox/pg"
import { Handlers, Relay } from "@reword/relay"
import { Telegram, TelegramClient, type TelegramConfig } from "@reword/telegram"
import { Context, Effect, Exit, Layer, Redacted, Scope } from "effect"

/** What the app needs. */
export interface AppConfig {
  readonly database: string
  readonly port?: number | undefined
  readonly telegram: {
    readonly settings: TelegramConfig.SettingsInput
    /** The webhook's `secret_token`. */
    readonly secretToken: Redacted.Redacted<string>
  }
  readonly bitrix24: {
    readonly settings: Bitrix24Config.SettingsInput
    readonly memberId: string
    readonly applicationToken: Redacted.Redacted<string>
  }
  readonly tablePrefix?: string | undefined
  readonly workerId?: string | undefined
  /** Run the relay's worker (default true); `false` only stores and answers. */
  readonly worker?: boolean | undefined
  /** Run after the relay stored a request's events, before it answers (the tests pause here to crash). */
  readonly beforeAnswer?: Handlers.Options["beforeAnswer"]
}

/** The running app. */
export interface RunningApp {
  readonly url: string
  readonly relay: Relay.Service
  readonly close: () => Promise<void>
}

const databaseLayer = (database: string) =>
  database.startsWith("postgres://") || database.startsWith("postgresql://")
    ? pgClient({ url: Redacted.make(database) })
    : sqliteClient({ filename: database })

/** Starts the relay and its HTTP server. */
export const start = async (config: AppConfig): Promise<RunningApp> => {
  const scope = Effect.runSync(Scope.make())
  const build = Effect.gen(function* () {
    // The outbox retries itself: one attempt per call.
    const bitrix24Editor = yield* Bitrix24.make(config.bitrix24.settings, { retry: { maxAttempts: 1 } })
    const telegramClient = yield* TelegramClient.make(config.telegram.settings)
    // The operators' edits reach Telegram through the outbox too: durable, retried, the newest winning.
    const telegramEditor = yield* Telegram.make(config.telegram.settings, { retry: { maxAttempts: 1 } })
    const outbox = yield* Outbox.makeWith([{ editor: bitrix24Editor }, { editor: telegramEditor }], {
      tablePrefix: `${config.tablePrefix ?? "relay_"}outbox_`,
      settleWindow: "5 seconds",
      pollInterval: "200 millis",
      workerId: config.workerId
    })
    const expected = { token: config.bitrix24.applicationToken }
    return yield* Relay.make({
      tablePrefix: `${config.tablePrefix ?? "relay_"}inbox_`,
      telegram: { secretToken: config.telegram.secretToken, account: "bot" },
      bitrix24: {
        expectedToken: (memberId) => Effect.succeed(memberId === config.bitrix24.memberId ? expected : undefined)
      },
      pollInterval: "200 millis",
      worker: config.worker,
      workerId: config.workerId
    }).pipe(
      Effect.provide(
        Context.make(Outbox.Outbox, outbox).pipe(
          Context.add(TelegramClient.TelegramClient, telegramClient),
          Context.add(Bitrix24Client.Bitrix24Client, bitrix24Editor.client)
        )
      )
    )
  })
  // The database lives as long as the app (its scope), not just while the relay is built.
  const relay = await Effect.runPromise(
    Effect.flatMap(Layer.buildWithScope(databaseLayer(config.database), scope), (database) =>
      build.pipe(Effect.provide(database), Scope.provide(scope))
    )
  ).catch(async (error: unknown) => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw error
  })
  const telegram = Handlers.node(relay, "telegram", { beforeAnswer: config.beforeAnswer })
  const bitrix24 = Handlers.node(relay, "bitrix24", { beforeAnswer: config.beforeAnswer })
  const server: Server = createServer((request, response) => {
    if (request.url === "/telegram") void telegram(request, response)
    else if (request.url === "/bitrix24") void bitrix24(request, response)
    else response.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(config.port ?? 0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    relay,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }
}

/** How `poll` reads Telegram. */
export interface PollOptions {
  /** Telegram's long-poll wait, in seconds (0 to 50). Default 25. */
  readonly timeoutSeconds?: number | undefined
  /** The longest pause after a failed read. Default 30 s. */
  readonly maxPauseMs?: number | undefined
  /** Told of each failed read (never with the bot's token: the status and Telegram's description only). */
  readonly onError?: ((problem: string) => void) | undefined
}

/** Waits `ms`, or less when `signal` aborts. */
const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener("abort", done)
      resolve()
    }
    signal.addEventListener("abort", done, { once: true })
  })

interface UpdatesPage {
  readonly ok?: boolean
  readonly result?: Array<{ readonly update_id: number }>
  readonly description?: string
  readonly parameters?: { readonly retry_after?: number }
}

/** One `getUpdates` call, bounded by Telegram's wait plus 15 s: the page, or why there is none. */
const readPage = async (url: string, waitSeconds: number, signal: AbortSignal) => {
  const response = await fetch(url, {
    signal: AbortSignal.any([signal, AbortSignal.timeout((waitSeconds + 15) * 1000)])
  })
  const body = (await response.json().catch(() => ({}))) as UpdatesPage
  if (response.ok && body.ok === true && Array.isArray(body.result)) return { updates: body.result }
  const retryAfter = body.parameters?.retry_after
  return {
    problem: `getUpdates answered ${response.status}: ${String(body.description ?? "").slice(0, 200)}`,
    retryAfterMs: typeof retryAfter === "number" ? retryAfter * 1000 : undefined
  }
}

/**
 * Reads Telegram with `getUpdates` (long polling: no webhook, no public address), until `signal` aborts:
 * each page is stored in the relay's inbox, then confirmed by asking for the next offset (a page the inbox
 * could not take is read again). Every wait is bounded: the long poll by Telegram's `timeout` plus 15 s, a
 * pause after a failure doubles from 0.5 s up to `maxPauseMs` (or Telegram's `retry_after`). Telegram
 * answers 409 while a webhook is set: `main` deletes it first.
 */
export const poll = async (
  app: RunningApp,
  apiUrl: string,
  botToken: Redacted.Redacted<string>,
  signal: AbortSignal,
  options: PollOptions = {}
): Promise<void> => {
  const waitSeconds = options.timeoutSeconds ?? 25
  let offset = 0
  let failures = 0
  while (!signal.aborted) {
    const url = `${apiUrl}/bot${Redacted.value(botToken)}/getUpdates?timeout=${waitSeconds}&offset=${offset}`
    const page = await readPage(url, waitSeconds, signal).catch((error: unknown) => ({
      problem: `getUpdates failed: ${error instanceof Error ? error.name : "unknown error"}`,
      retryAfterMs: undefined
    }))
    if ("updates" in page) {
      failures = 0
      if (page.updates.length === 0) continue
      const answer = await Effect.runPromise(app.relay.acceptUpdates(page.updates))
      if (answer.status === 200) offset = Math.max(...page.updates.map((update) => update.update_id)) + 1
      else await pause(1_000, signal)
      continue
    }
    if (signal.aborted) return
    options.onError?.(page.problem)
    failures += 1
    const backoff = Math.min(options.maxPauseMs ?? 30_000, 500 * 2 ** Math.min(failures - 1, 10))
    await pause(Math.max(backoff, page.retryAfterMs ?? 0), signal)
  }
}

/** Points Telegram at the webhook (with its secret), or removes it so that `getUpdates` may read. */
const configureTelegram = async (
  apiUrl: string,
  botToken: Redacted.Redacted<string>,
  webhook: { readonly url: string; readonly secret: Redacted.Redacted<string> } | undefined
) => {
  const method = webhook === undefined ? "deleteWebhook" : "setWebhook"
  const body = webhook === undefined ? {} : { url: webhook.url, secret_token: Redacted.value(webhook.secret) }
  const response = await fetch(`${apiUrl}/bot${Redacted.value(botToken)}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000)
  })
  if (!response.ok) throw new Error(`${method} answered ${response.status}`)
}

const main = async () => {
  const env = process.env
  const need = (name: string) => {
    const value = env[name]
    if (value === undefined || value === "") throw new Error(`${name} is not set`)
    return value
  }
  const config: AppConfig = {
    database: env.RELAY_DATABASE ?? "relay.db",
    worker: env.RELAY_WORKER !== "false",
    tablePrefix: env.RELAY_TABLE_PREFIX,
    // For the crash tests: say the events are stored, then wait before answering.
    beforeAnswer:
      env.RELAY_PAUSE_BEFORE_ANSWER_MS === undefined
        ? undefined
        : async (answer) => {
            console.log(`stored ${answer.accepted} ${answer.duplicates}`)
            await new Promise((resolve) => setTimeout(resolve, Number(env.RELAY_PAUSE_BEFORE_ANSWER_MS)))
          },
    port: Number(env.PORT ?? 8080),
    workerId: env.RELAY_WORKER_ID,
    telegram: {
      settings: {
        botToken: Redacted.make(need("TELEGRAM_BOT_TOKEN")),
        ...(env.TELEGRAM_API_URL === undefined ? {} : { apiUrl: env.TELEGRAM_API_URL, allowInsecureLoopback: true })
      },
      secretToken: Redacted.make(need("TELEGRAM_WEBHOOK_SECRET"))
    },
    bitrix24: {
      settings: {
        portalUrl: need("BITRIX24_PORTAL_URL"),
        accessToken: Redacted.make(need("BITRIX24_ACCESS_TOKEN")),
        refreshToken: Redacted.make(need("BITRIX24_REFRESH_TOKEN")),
        clientId: need("BITRIX24_CLIENT_ID"),
        clientSecret: Redacted.make(need("BITRIX24_CLIENT_SECRET")),
        ...(env.BITRIX24_OAUTH_URL === undefined ? {} : { oauthUrl: env.BITRIX24_OAUTH_URL }),
        connector: need("BITRIX24_CONNECTOR"),
        line: Number(need("BITRIX24_LINE")),
        allowInsecureLoopback: env.BITRIX24_ALLOW_INSECURE_LOOPBACK === "true"
      },
      memberId: need("BITRIX24_MEMBER_ID"),
      applicationToken: Redacted.make(need("BITRIX24_APPLICATION_TOKEN"))
    }
  }
  const app = await start(config)
  console.log(`relay listening on ${app.url}`)
  const stop = new AbortController()
  process.once("SIGTERM", () => {
    stop.abort()
    void app.close().then(() => process.exit(0))
  })
  const apiUrl = env.TELEGRAM_API_URL ?? "https://api.telegram.org"
  const botToken = Redacted.make(need("TELEGRAM_BOT_TOKEN"))
  const webhookUrl = env.TELEGRAM_WEBHOOK_URL
  if (webhookUrl !== undefined) {
    await configureTelegram(apiUrl, botToken, { url: webhookUrl, secret: config.telegram.secretToken })
  } else if (env.TELEGRAM_POLL !== "false") {
    await configureTelegram(apiUrl, botToken, undefined)
    console.log("reading Telegram with getUpdates (no webhook)")
    void poll(app, apiUrl, botToken, stop.signal, { onError: (problem) => console.error(problem) })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) void main()
