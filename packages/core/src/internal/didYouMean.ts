/**
 * The one "did you mean" of reword: what a mistyped key most likely meant, for
 * every key check (settings objects, the outbox's options and submits). One
 * threshold everywhere: the same letters in another case, or at most
 * `min(2, ⌊length / 3⌋)` edits from a known key (so one edit for a key of 3 to
 * 5 letters, two from 6, none under 3), the nearest one winning.
 */

/** Levenshtein distance, over UTF-16 code units (keys are ASCII names). */
const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost)
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

/** The longest key worth comparing: a longer one is no typo of a known key (and would cost its length squared). */
const MAX_COMPARED = 64

/** The known key a mistyped one most likely meant, or `undefined` when none is near. */
export const nearest = (key: string, known: ReadonlyArray<string>): string | undefined => {
  const lower = key.toLowerCase()
  const sameCase = known.find((candidate) => candidate.toLowerCase() === lower)
  if (sameCase !== undefined) return sameCase
  if (key.length > MAX_COMPARED) return undefined
  let best: { readonly key: string; readonly distance: number } | undefined
  for (const candidate of known) {
    const edits = distance(lower, candidate.toLowerCase())
    if (edits <= Math.min(2, Math.floor(candidate.length / 3)) && (best === undefined || edits < best.distance)) {
      best = { key: candidate, distance: edits }
    }
  }
  return best?.key
}

/** `" (did you mean accountId?)"` for a key near a known one (see {@link nearest}), `""` otherwise. */
export const didYouMean = (key: string, known: ReadonlyArray<string>): string => {
  const near = nearest(key, known)
  return near === undefined ? "" : ` (did you mean ${near}?)`
}
