/**
 * Percentiles and summaries of latency samples.
 */

/** The p-th percentile (0 to 100) of sorted samples, interpolated linearly between ranks. */
export const percentile = (sorted: ReadonlyArray<number>, p: number): number => {
  if (sorted.length === 0) return Number.NaN
  const rank = (p / 100) * (sorted.length - 1)
  const low = Math.floor(rank)
  const high = Math.ceil(rank)
  const lower = sorted[low] as number
  const upper = sorted[high] as number
  return lower + (upper - lower) * (rank - low)
}

export interface Summary {
  readonly n: number
  readonly median: number
  readonly p99: number
  readonly mean: number
  readonly min: number
  readonly max: number
}

/** Median, p99, mean, min and max of samples (in whatever unit they are). */
export const summarize = (samples: ReadonlyArray<number>): Summary => {
  const sorted = Float64Array.from(samples).sort()
  const values = Array.from(sorted)
  const sum = values.reduce((total, value) => total + value, 0)
  return {
    n: values.length,
    median: percentile(values, 50),
    p99: percentile(values, 99),
    mean: values.length === 0 ? Number.NaN : sum / values.length,
    min: values[0] ?? Number.NaN,
    max: values.at(-1) ?? Number.NaN
  }
}

/** The median of a few numbers. */
export const median = (values: ReadonlyArray<number>): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    50
  )

/** Rounds to a number of significant decimals, for JSON that stays readable. */
export const round = (value: number, decimals = 3): number => {
  const factor = 10 ** decimals
  return Math.round(value * factor) / factor
}
