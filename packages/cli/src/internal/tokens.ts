/**
 * The Bitrix24 token store as the command uses it: the token file (or memory)
 * with every pair it loads or saves added to the output's live secret set, so
 * that a token read from the file or produced by a refresh is scrubbed from
 * everything printed afterwards, like the configured ones.
 */
import { TokenStore } from "@reword/bitrix24"
import type { Secrets } from "@reword/core/adapter"
import { Effect, Layer, Option } from "effect"
import type { Extra } from "./extras.ts"

const learn = (secrets: Secrets.Secrets, tokens: TokenStore.Tokens) => {
  secrets.add(tokens.accessToken).add(tokens.refreshToken)
}

/** A store that tells `secrets` of every pair that passes through it. */
export const watching = (store: TokenStore.Service, secrets: Secrets.Secrets): TokenStore.Service =>
  TokenStore.TokenStore.of({
    load: Effect.tap(store.load, (loaded) =>
      Effect.sync(() => {
        if (Option.isSome(loaded)) learn(secrets, loaded.value)
      })
    ),
    save: (tokens) =>
      Effect.suspend(() => {
        // Known before it is written: a failed save must not print it either.
        learn(secrets, tokens)
        return store.save(tokens)
      })
  })

/** The token store layer: the file when one is given, else memory; watched by `secrets`. */
export const layer = (file: string | undefined, secrets: Secrets.Secrets): Layer.Layer<TokenStore.TokenStore> =>
  Layer.sync(TokenStore.TokenStore, () =>
    watching(file === undefined ? TokenStore.makeMemory() : TokenStore.makeFile(file), secrets)
  )

/** The variable of the Bitrix24 token file: a CLI setting, not an adapter one. */
export const BITRIX24_TOKEN_FILE = "BITRIX24_TOKEN_FILE"

/** Bitrix24's token file, as a setting of the command (`--bitrix24-token-file`, `BITRIX24_TOKEN_FILE`). */
export const tokenFile: Extra = {
  provider: "bitrix24",
  env: BITRIX24_TOKEN_FILE,
  flag: "bitrix24-token-file",
  metavar: "path",
  description: `[bitrix24] A JSON file that keeps the OAuth token pair: a pair in it wins over the configured one, and a refreshed pair is saved to it (owner-only). Bitrix24 refresh tokens rotate: without it, a pair refreshed during this run is lost at exit. Overrides ${BITRIX24_TOKEN_FILE}.`,
  help: "[bitrix24] the token file (see --bitrix24-token-file) (optional)",
  layer
}
