/**
 * The providers the command ships with, and what the command can be given
 * instead (for apps that embed it).
 */
import { Acquire } from "@reword/acquire"
import { Bitrix24 } from "@reword/bitrix24"
import type { Provider } from "@reword/core"
import * as Sandboxes from "./sandboxes.ts"
import { type Env, settingFlags } from "./settings.ts"

/** What the commands are built from. */
export interface Options {
  /** The providers to choose from (default Bitrix24 and Acquire). */
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
  readonly env: () => Env
  readonly settingFlags: ReturnType<typeof settingFlags>
}

/** The providers the command ships with. */
export const defaults: ReadonlyArray<Provider.AnyDescriptor> = [Bitrix24.provider, Acquire.provider]

/** Fills in the defaults. */
export const resolve = (options: Options = {}): Resolved => {
  const providers = options.providers ?? defaults
  const [first, ...rest] = providers.map((descriptor) => descriptor.name)
  if (first === undefined) throw new TypeError("reword needs at least one provider")
  return {
    providers,
    names: [first, ...rest],
    sandboxes: options.sandboxes ?? Sandboxes.defaults,
    env: options.env ?? (() => process.env),
    settingFlags: settingFlags(providers)
  }
}

/** `bitrix24, acquire` */
export const list = (names: ReadonlyArray<string>): string => names.join(", ")
