/**
 * What a provider adds to the command beyond its descriptor's settings: a
 * setting of the command itself (Bitrix24's token file), with its variable,
 * its flag and the services it gives the editor in a real run. The neutral
 * command reads these from the registry (`providers.ts`) and never names a
 * provider.
 */
import type { Secrets } from "@reword/core/adapter"
import { Layer, Option } from "effect"
import { Flag } from "effect/cli"
import type { Env } from "./settings.ts"

/** The services an extra gives the editor (any: each provider's own). */
// biome-ignore lint/suspicious/noExplicitAny: each provider provides its own services (Bitrix24: a TokenStore)
export type Services = Layer.Layer<any>

/** One setting a provider adds to `reword update`. */
export interface Extra {
  /** The provider it belongs to. */
  readonly provider: string
  /** Its environment variable, such as `BITRIX24_TOKEN_FILE`. */
  readonly env: string
  /** Its flag, such as `bitrix24-token-file` (it overrides the variable). */
  readonly flag: string
  readonly metavar: string
  /** The flag's help. */
  readonly description: string
  /** The line of the ENVIRONMENT help section. */
  readonly help: string
  /**
   * The services the editor gets in a real run (never in a `--sandbox`
   * rehearsal), from the value (`undefined` when not set) and the output's
   * live secret set.
   */
  readonly layer: (value: string | undefined, secrets: Secrets.Secrets) => Services
}

/** The extras' flags, keyed by variable. */
export type ExtraFlags = Record<string, Flag.Flag<Option.Option<string>>>

/** One optional flag per extra. */
export const flagsOf = (extras: ReadonlyArray<Extra>): ExtraFlags =>
  Object.fromEntries(
    extras.map((extra) => [
      extra.env,
      Flag.String(extra.flag).pipe(
        Flag.withDescription(extra.description),
        Flag.withMetavar(extra.metavar),
        Flag.optional
      )
    ])
  )

/** Each extra's value: its flag, else its variable (blank is unset). */
export const valuesOf = (
  extras: ReadonlyArray<Extra>,
  flags: Readonly<Record<string, Option.Option<string>>>,
  env: Env
): Readonly<Record<string, string | undefined>> =>
  Object.fromEntries(
    extras.map((extra) => [
      extra.env,
      Option.getOrUndefined(
        Option.orElse(flags[extra.env] ?? Option.none(), () =>
          Option.fromUndefinedOr(env[extra.env]?.trim() || undefined)
        )
      )
    ])
  )

/** The services every extra gives a real run. */
export const layerOf = (
  extras: ReadonlyArray<Extra>,
  values: Readonly<Record<string, string | undefined>>,
  secrets: Secrets.Secrets
): Services => {
  let services: Services = Layer.empty as Services
  for (const extra of extras) services = Layer.merge(services, extra.layer(values[extra.env], secrets))
  return services
}
