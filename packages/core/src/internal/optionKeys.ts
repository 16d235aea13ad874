/**
 * Where every option belongs: the keys of the options objects (from their
 * Schemas' fields), checked at the edge for values from untyped code, with
 * the map of where a misplaced key belongs and a "did you mean" for a typo
 * (the one of reword: a wrong case, or a letter or two off).
 *
 * @internal
 */
import { Predicate } from "effect"
import * as HttpTransport from "../HttpTransport.ts"
import { EditorOptionsSchema } from "../OptionCheck.ts"
import type { AnyDescriptor } from "../Provider.ts"
import * as RetryPolicy from "../RetryPolicy.ts"
import { didYouMean } from "./didYouMean.ts"

/** One `true` per key of an options type: a list of keys the compiler keeps complete. */
export type KeySet<K extends PropertyKey> = { readonly [Key in K]: true }

const keysOf = <F extends object>(schema: { readonly fields: F }): KeySet<keyof F & string> =>
  Object.fromEntries(Object.keys(schema.fields).map((key) => [key, true])) as KeySet<keyof F & string>

/** The keys of the options every editor takes. */
export const editorKeys = keysOf(EditorOptionsSchema)

const transportKeys = keysOf(HttpTransport.TransportOptionsSchema)

const retryKeys = keysOf(RetryPolicy.RetryOptionsSchema)

const listOf = (keys: ReadonlyArray<string>): string => (keys.length === 0 ? "(none)" : keys.join(", "))

const isPlainObject = (value: unknown): value is Readonly<Record<string, unknown>> =>
  Predicate.isObject(value) && !Array.isArray(value) && typeof value !== "function"

/** "did you mean tokenStore?" for a key near a known one: the one "did you mean" of reword. */
const suggestion = didYouMean

/** Where a misplaced key belongs, when it is known somewhere else. */
const homeOf = (key: string, providers: ReadonlyArray<AnyDescriptor>): string | undefined => {
  if (Object.hasOwn(transportKeys, key)) return `transport: { ${key} }`
  if (Object.hasOwn(retryKeys, key)) return `retry: { ${key} }`
  const owner = providers.find((descriptor) => Object.hasOwn(descriptor.options ?? {}, key))
  return owner === undefined ? undefined : `providerOptions: { ${owner.name}: { ${key} } }`
}

const unknownKey = (
  key: string,
  where: string,
  known: ReadonlyArray<string>,
  providers: ReadonlyArray<AnyDescriptor>
): string => {
  const home = homeOf(key, providers)
  const hint = home === undefined ? suggestion(key, known) : `: it belongs in ${home}`
  return `Unknown option "${key}" in ${where}${hint}; the known options there are ${listOf(known)}`
}

const checkKeys = (
  value: unknown,
  where: string,
  known: Readonly<Record<string, true>>,
  providers: ReadonlyArray<AnyDescriptor>
): string | undefined => {
  if (value === undefined) return undefined
  if (!isPlainObject(value)) return `${where} must be an object (with ${listOf(Object.keys(known))})`
  const knownKeys = Object.keys(known)
  const extra = Object.keys(value).find((key) => !Object.hasOwn(known, key))
  return extra === undefined ? undefined : unknownKey(extra, where, knownKeys, providers)
}

const checkProviderOptions = (providers: ReadonlyArray<AnyDescriptor>, value: unknown): string | undefined => {
  if (value === undefined) return undefined
  const names = providers.map((descriptor) => descriptor.name)
  if (!isPlainObject(value)) return `providerOptions must be an object keyed by provider name (${listOf(names)})`
  for (const [name, options] of Object.entries(value)) {
    const descriptor = providers.find((candidate) => candidate.name === name)
    if (descriptor === undefined) {
      return `Unknown provider "${name}" in providerOptions${suggestion(name, names)}; the known providers are ${listOf(names)}`
    }
    if (options === undefined) continue
    const where = `providerOptions.${name}`
    const known = Object.keys(descriptor.options ?? {})
    if (!isPlainObject(options)) return `${where} must be an object (with ${listOf(known)})`
    const extra = Object.keys(options).find((key) => !known.includes(key))
    if (extra === undefined) continue
    if (known.length === 0) {
      const home = homeOf(
        extra,
        providers.filter((other) => other !== descriptor)
      )
      return `Unknown option "${extra}" in ${where}: ${name} takes no options of its own${home === undefined ? "" : `; "${extra}" belongs in ${home}`}`
    }
    return unknownKey(
      extra,
      where,
      known,
      providers.filter((other) => other !== descriptor)
    )
  }
  return undefined
}

/**
 * The sentence of the first option out of its place (the options object's
 * keys `known`, `transport`'s, `retry`'s, and `providerOptions`'), or `undefined`.
 */
export const checkOptions = (
  providers: ReadonlyArray<AnyDescriptor>,
  options: unknown,
  known: Readonly<Record<string, true>>
): string | undefined => {
  try {
    if (options === undefined) return undefined
    if (!isPlainObject(options)) return "The options must be an object"
    return (
      checkKeys(options, "the options", known, providers) ??
      checkKeys(options.transport, "transport", transportKeys, providers) ??
      checkKeys(options.retry, "retry", retryKeys, providers) ??
      checkProviderOptions(providers, options.providerOptions)
    )
  } catch (error) {
    return `The options could not be read: ${error instanceof Error ? error.message : "reading them threw"}`
  }
}

/** Options objects whose keys the edge has checked (`createEditor`'s, handed to `Provider.makeEditor`). */
const checked = new WeakSet<object>()

/** Marks options whose keys were checked, so that the next step does not check them again. */
export const markChecked = <O extends object>(options: O): O => {
  checked.add(options)
  return options
}

/** Whether the keys of these options were checked already. */
export const isChecked = (options: unknown): boolean => Predicate.isObject(options) && checked.has(options)
