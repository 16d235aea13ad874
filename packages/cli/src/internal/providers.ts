/**
 * The registry of the providers the command ships with: each one's
 * descriptor, its sandbox and the settings it adds to the command (`Extra`).
 * The commands are neutral: every provider-specific piece is here, and what
 * an app that embeds the command can give instead.
 */
import { Acquire } from "@reword/acquire"
import { Bitrix24 } from "@reword/bitrix24"
import type { Provider } from "@reword/core"
import { Telegram } from "@reword/telegram"
import { type Extra, type ExtraFlags, flagsOf } from "./extras.ts"
import type * as Sandboxes from "./sandboxes.ts"
import { type Env, settingFlags } from "./settings.ts"
import * as Tokens from "./tokens.ts"

/** What the commands are built from. */
export interface Options {
  /** The providers to choose from (default Bitrix24, Acquire and Telegram). */
  readonly providers?: ReadonlyArray<Provider.AnyDescriptor> | undefined
  /** Each provider's sandbox, by provider name (default the shipped providers' sandboxes). */
  readonly sandboxes?: Readonly<Record<string, Sandboxes.Starter>> | undefined
  /** Where the environment comes from (default `process.env`, read when the command runs). */
  readonly env?: (() => Env) | undefined
}

/** The options with their defaults filled in. */
export interface Resolved {
  readonly providers: ReadonlyArray<Provider.AnyDescriptor>
  readonly names: readonly [string, ...Array<string>]
  readonly sandboxes: Readonly<Record<string, Sandboxes.Starter>>
  /** The settings the listed providers add to the command. */
  readonly extras: ReadonlyArray<Extra>
  readonly env: () => Env
  readonly settingFlags: ReturnType<typeof settingFlags>
  readonly extraFlags: ExtraFlags
}

/** One shipped provider: its descriptor, its sandbox, the settings it adds to the command. */
interface Entry {
  readonly descriptor: Provider.AnyDescriptor
  readonly sandbox: Sandboxes.Starter
  readonly extras: ReadonlyArray<Extra>
}

/**
 * The shipped providers. A third provider is one more entry here (its sandbox
 * is loaded only when one starts).
 */
const registry: ReadonlyArray<Entry> = [
  {
    descriptor: Bitrix24.provider,
    sandbox: {
      start: (options) =>
        import("@reword/bitrix24/sandbox").then(({ Bitrix24Sandbox }) => Bitrix24Sandbox.start(options))
    },
    extras: [Tokens.tokenFile]
  },
  {
    descriptor: Acquire.provider,
    sandbox: {
      start: (options) => import("@reword/acquire/sandbox").then(({ AcquireSandbox }) => AcquireSandbox.start(options))
    },
    extras: []
  },
  {
    descriptor: Telegram.provider,
    sandbox: {
      start: (options) =>
        import("@reword/telegram/sandbox").then(({ TelegramSandbox }) => TelegramSandbox.start(options))
    },
    extras: []
  }
]

/** The providers the command ships with. */
export const defaults: ReadonlyArray<Provider.AnyDescriptor> = registry.map((entry) => entry.descriptor)

/** The sandboxes of the providers the command ships with, by provider name. */
export const defaultSandboxes: Readonly<Record<string, Sandboxes.Starter>> = Object.fromEntries(
  registry.map((entry) => [entry.descriptor.name, entry.sandbox])
)

/** Fills in the defaults. */
export const resolve = (options: Options = {}): Resolved => {
  const providers = options.providers ?? defaults
  const [first, ...rest] = providers.map((descriptor) => descriptor.name)
  if (first === undefined) throw new TypeError("reword needs at least one provider")
  const extras = registry.filter((entry) => providers.includes(entry.descriptor)).flatMap((entry) => entry.extras)
  return {
    providers,
    names: [first, ...rest],
    sandboxes: options.sandboxes ?? defaultSandboxes,
    extras,
    env: options.env ?? (() => process.env),
    settingFlags: settingFlags(providers),
    extraFlags: flagsOf(extras)
  }
}

/** `bitrix24, acquire` */
export const list = (names: ReadonlyArray<string>): string => names.join(", ")
