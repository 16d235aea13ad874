/**
 * Provider settings as command-line flags: one flag per setting of every
 * provider's descriptor (`ACQUIRE_API_KEY` becomes `--acquire-api-key`), each
 * overriding its environment variable.
 */
import { Provider } from "@reword/core"
import { Option, Redacted } from "effect"
import { Flag } from "effect/cli"

/** The environment as the command reads it. */
export type Env = Readonly<Record<string, string | undefined>>

/** A setting's value from its flag: secrets stay `Redacted`. */
export type SettingValue = Option.Option<string | Redacted.Redacted<string>>

/** The settings flags, keyed by environment variable. */
export type SettingFlags = Record<string, Flag.Flag<SettingValue>>

/** `ACQUIRE_API_KEY` → `acquire-api-key`. */
export const flagNameOf = (env: string): string => env.toLowerCase().replaceAll("_", "-")

/** The help text of one setting's flag. */
export const describeSetting = (provider: string, setting: Provider.Setting): string => {
  const optional = setting.optional === true ? " Optional." : ""
  const secret =
    setting.secret === true
      ? ` A secret: prefer the environment variable ${setting.env} (a flag's value shows in the process list and the shell history); never printed.`
      : ""
  return `[${provider}] ${capitalize(setting.description)}. Overrides ${setting.env}.${optional}${secret}`
}

const capitalize = (text: string): string => (text.length === 0 ? text : `${text[0]?.toUpperCase()}${text.slice(1)}`)

/** One optional flag per setting of every provider (the first provider wins a shared variable). */
export const settingFlags = (providers: ReadonlyArray<Provider.AnyDescriptor>): SettingFlags => {
  const flags: SettingFlags = {}
  for (const descriptor of providers) {
    for (const setting of descriptor.settings) {
      if (setting.env in flags) continue
      const name = flagNameOf(setting.env)
      const base: Flag.Flag<string | Redacted.Redacted<string>> =
        setting.secret === true ? Flag.Redacted(name) : Flag.String(name)
      flags[setting.env] = base.pipe(
        Flag.withDescription(describeSetting(descriptor.name, setting)),
        Flag.withMetavar(setting.secret === true ? "secret" : "value"),
        Flag.optional
      )
    }
  }
  return flags
}

/**
 * The environment the editor reads: the process environment, with each
 * setting given as a flag (and the provider from `--provider`) on top.
 */
export const withOverrides = (
  env: Env,
  overrides: { readonly provider: Option.Option<string>; readonly settings: Readonly<Record<string, SettingValue>> }
): Record<string, string | undefined> => {
  const merged: Record<string, string | undefined> = { ...env }
  if (Option.isSome(overrides.provider)) merged[Provider.PROVIDER_VARIABLE] = overrides.provider.value
  for (const [variable, value] of Object.entries(overrides.settings)) {
    if (Option.isSome(value)) merged[variable] = plain(value.value)
  }
  return merged
}

const plain = (value: string | Redacted.Redacted<string>): string =>
  Redacted.isRedacted(value) ? Redacted.value(value) : value

/** Every secret setting's value in an environment, so that output can be scrubbed of them. */
export const secretsIn = (
  env: Env,
  providers: ReadonlyArray<Provider.AnyDescriptor>
): ReadonlyArray<Redacted.Redacted<string>> => {
  const secrets: Array<Redacted.Redacted<string>> = []
  for (const descriptor of providers) {
    for (const setting of descriptor.settings) {
      const value = env[setting.env]
      if (setting.secret === true && value !== undefined && value.trim().length > 0) {
        secrets.push(Redacted.make(value), Redacted.make(value.trim()))
      }
    }
  }
  return secrets
}

/** The names of the secret settings of a provider (for hints). */
export const secretVariables = (descriptor: Provider.AnyDescriptor | undefined): ReadonlyArray<string> =>
  descriptor === undefined ? [] : descriptor.settings.filter((setting) => setting.secret === true).map((s) => s.env)
