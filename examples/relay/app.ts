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

/** Reads Telegram with `getUpdates` (no webhook): each page stored, then confirmed by the next offset. */
export const poll = async (app: RunningApp, apiUrl: string, botToken: string, signal: AbortSignal) => {
  let offset = 0
  while (!signal.aborted) {
    const response = await fetch(`${apiUrl}/bot${botToken}/getUpdates?timeout=25&offset=${offset}`, { signal }).catch(
      () => undefined
    )
    const body = (await response?.json().catch(() => undefined)) as
      | { result?: Array<{ update_id: number }> }
      | undefined
    const updates = body?.result ?? []
    if (updates.length === 0) continue
    const answer = await Effect.runPromise(app.relay.acceptUpdates(updates))
    if (answer.status === 200) offset = Math.max(...updates.map((update) => update.update_id)) + 1
  }
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
  if (env.TELEGRAM_WEBHOOK_URL === undefined && env.TELEGRAM_POLL !== "false") {
    void poll(app, env.TELEGRAM_API_URL ?? "https://api.telegram.org", need("TELEGRAM_BOT_TOKEN"), stop.signal)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) void main()
