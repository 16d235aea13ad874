/**
 * The relay's world in a test: the Telegram sandbox (webhook delivery), a
 * Bitrix24 portal (operator side, connector events), and the example app
 * (examples/relay/app.ts) between them, on a SQLite file or PostgreSQL.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Bitrix24Portals } from "@reword/bitrix24/sandbox"
import { TelegramSandbox } from "@reword/telegram/sandbox"
import { Redacted } from "effect"
import { type AppConfig, type RunningApp, start } from "../../../../examples/relay/app.ts"

export const SECRET = "relay-test-secret_0123456789"

/** Waits until `check` holds, polling, within `timeoutMs` (generous: a loaded machine is slow). */
export const until = async (check: () => boolean | Promise<boolean>, timeoutMs = 30_000, what = "a condition") => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}

export interface World {
  readonly telegram: TelegramSandbox.Sandbox
  readonly portals: Bitrix24Portals.Portals
  readonly portal: Bitrix24Portals.Portal
  readonly database: string
  app: RunningApp
  /** Starts the app again (after `app.close()`), on the same database. */
  readonly restart: () => Promise<RunningApp>
  readonly stop: () => Promise<void>
}

export const setWebhook = async (telegram: TelegramSandbox.Sandbox, url: string) => {
  const response = await fetch(`${telegram.url}/bot${telegram.botToken}/setWebhook`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ url, secret_token: SECRET })
  })
  if (!response.ok) throw new Error(`setWebhook answered ${response.status}`)
}

export const appConfig = (
  telegram: TelegramSandbox.Sandbox,
  portal: Bitrix24Portals.Portal,
  database: string,
  tablePrefix: string
): AppConfig => ({
  database,
  tablePrefix,
  telegram: { settings: telegram.settings, secretToken: Redacted.make(SECRET) },
  bitrix24: {
    settings: portal.settings,
    memberId: portal.memberId,
    applicationToken: Redacted.make(portal.applicationToken)
  }
})

export const makeWorld = async (
  options: { readonly database?: string | undefined; readonly tablePrefix?: string | undefined } = {}
): Promise<World> => {
  const directory = mkdtempSync(join(tmpdir(), "reword-relay-"))
  const database = options.database ?? join(directory, "relay.db")
  const telegram = await TelegramSandbox.start()
  const portals = await Bitrix24Portals.start()
  const portal = portals.add()
  const config = appConfig(telegram, portal, database, options.tablePrefix ?? "relay_")
  const open = async () => {
    const app = await start(config)
    await setWebhook(telegram, `${app.url}/telegram`)
    portal.bindEvents(`${app.url}/bitrix24`)
    return app
  }
  const world: World = {
    telegram,
    portals,
    portal,
    database,
    app: await open(),
    restart: async () => {
      world.app = await open()
      return world.app
    },
    stop: async () => {
      await portal.eventsSettled()
      await world.app.close().catch(() => undefined)
      await telegram.stop()
      await portals.stop()
      rmSync(directory, { recursive: true, force: true })
    }
  }
  return world
}

/** Posts to the app's Bitrix24 route an operator's edit of message `tg:1:1` carrying `token` as the application token. */
export const postBitrix24Edit = (
  appUrl: string,
  portal: Pick<Bitrix24Portals.Portal, "connector" | "line" | "memberId">,
  token: string
) =>
  fetch(`${appUrl}/bitrix24`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      event: "ONIMCONNECTORMESSAGEUPDATE",
      "data[CONNECTOR]": portal.connector,
      "data[LINE]": String(portal.line),
      "data[MESSAGES][0][message][id][0]": "tg:1:1",
      "data[MESSAGES][0][message][text]": "spoofed",
      "data[MESSAGES][0][chat][id]": "tg:1",
      "auth[member_id]": portal.memberId,
      "auth[application_token]": token
    }).toString()
  })
