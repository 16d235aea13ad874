/**
 * The two ways an adapter builds a service, written once (re-exported as
 * `ProviderKit.constructors`, documented there).
 */
import { type Config, Effect, Result } from "effect"
import type { Problem } from "../EditError.ts"
import * as OptionCheck from "../OptionCheck.ts"
import * as Rendering from "./redactedRendering.ts"
import { configError } from "./settings.ts"

export const constructors = <Input, Settings, Options, A, E, R>(parts: {
  /** Decodes the options once (`OptionCheck.decodeEditorOptions`...): every problem names its field. */
  readonly decodeOptions: (options: Options) => Result.Result<Options, ReadonlyArray<Problem>>
  /** Checks settings given in code. */
  readonly check: (input: Input) => Result.Result<Settings, Config.ConfigError>
  /** Reads and checks the settings from the current `ConfigProvider`. */
  readonly read: () => Effect.Effect<Settings, Config.ConfigError>
  /** Builds the service from checked settings and decoded options. */
  readonly build: (settings: Settings, options: Options) => Effect.Effect<A, E, R>
}): {
  readonly make: (input: Input, options: Options) => Effect.Effect<A, E | Config.ConfigError, R>
  readonly fromConfig: (options: Options) => Effect.Effect<A, E | Config.ConfigError, R>
} => {
  const decode = (options: Options) =>
    Effect.fromResult(Result.mapError(parts.decodeOptions(options), OptionCheck.toConfigError))
  return {
    make: (input, options) =>
      Effect.flatMap(decode(options), (decoded) => {
        // "<redacted>" is refused for adapters whose check does not decode through a declaration too.
        const redacted = Rendering.pathIn(input)
        if (redacted !== undefined) return Effect.fail(configError(Rendering.message(`the setting ${redacted}`)))
        return Effect.flatMap(Effect.fromResult(parts.check(input)), (settings) => parts.build(settings, decoded))
      }),
    fromConfig: (options) =>
      Effect.flatMap(decode(options), (decoded) =>
        Effect.flatMap(parts.read(), (settings) => parts.build(settings, decoded))
      )
  }
}
