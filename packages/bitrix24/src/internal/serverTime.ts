/**
 * What a call of `imconnector.update.messages` costs the portal, learnt from
 * its answers, and the chunk size that follows from it. A portal reports each
 * call's server time (`time.duration`); a call costs a fixed part plus a part
 * per message it carries, so the cost is fitted as `perCall + perMessage × n`
 * over the last answers. A call carries as many messages as it may (50) within
 * the time one request may take: the portal ends a request at 60 s, so the
 * chunk is sized to take at most half of that (or of the transport's timeout,
 * when shorter). The most messages per call is also what the operating-time
 * budget favours: each call's fixed cost is then shared by the most messages.
 *
 * @since 0.2.0
 */

/**
 * Options of the model.
 *
 * @category options
 * @since 0.2.0
 */
export interface Options {
  /** The most messages a call carries. Default 50. */
  readonly max?: number | undefined
  /** What a call carries before any answer told its cost. Default 20. */
  readonly initial?: number | undefined
  /** The server time a call may be expected to take, in seconds. Default 30 (half the portal's 60 s). */
  readonly budgetSeconds?: number | undefined
  /** How many recent answers the fit reads. Default 32. */
  readonly window?: number | undefined
}

/**
 * A call's server time, fitted from the answers.
 *
 * @category models
 * @since 0.2.0
 */
export interface Estimate {
  /** Seconds a call costs whatever it carries. */
  readonly perCall: number
  /** Seconds each message adds. */
  readonly perMessage: number
}

/**
 * The model.
 *
 * @category models
 * @since 0.2.0
 */
export interface ServerTime {
  /** Records an answer: a call carrying `messages` took `seconds` of server time. */
  readonly observe: (messages: number, seconds: number) => void
  /** The fitted cost; `undefined` before the first answer. */
  readonly estimate: () => Estimate | undefined
  /** The server time a call carrying `messages` is expected to take, in seconds (0 while unknown). */
  readonly cost: (messages: number) => number
  /** How many messages the next call should carry: from 1 to `max`. */
  readonly size: () => number
}

/**
 * The least-squares fit of `seconds = perCall + perMessage × messages`; when
 * the answers do not tell the two apart (every call carried as many), or the
 * fit is not physical (a negative part), the whole cost is counted per
 * message: an upper bound for calls carrying more, so sizes err small.
 *
 * @category server time
 * @since 0.2.0
 */
export const fit = (samples: ReadonlyArray<readonly [messages: number, seconds: number]>): Estimate | undefined => {
  if (samples.length === 0) return undefined
  let sumN = 0
  let sumD = 0
  for (const [n, d] of samples) {
    sumN += n
    sumD += d
  }
  const meanN = sumN / samples.length
  const meanD = sumD / samples.length
  let varN = 0
  let cov = 0
  for (const [n, d] of samples) {
    varN += (n - meanN) ** 2
    cov += (n - meanN) * (d - meanD)
  }
  if (varN > 0) {
    const perMessage = cov / varN
    const perCall = meanD - perMessage * meanN
    if (perMessage >= 0 && perCall >= 0) return { perCall, perMessage }
  }
  return { perCall: 0, perMessage: meanN > 0 ? meanD / meanN : 0 }
}

/**
 * The most messages a call may carry so that it is expected to take at most
 * `budgetSeconds`, from 1 to `max`.
 *
 * @category server time
 * @since 0.2.0
 */
export const sizeFor = (estimate: Estimate, budgetSeconds: number, max: number): number => {
  if (!(estimate.perMessage > 0)) return max
  const fits = Math.floor((budgetSeconds - estimate.perCall) / estimate.perMessage)
  if (Number.isNaN(fits)) return 1
  return Math.min(max, Math.max(1, fits))
}

/**
 * Makes a model.
 *
 * @category constructors
 * @since 0.2.0
 */
export const make = (options: Options = {}): ServerTime => {
  const max = Math.max(1, Math.floor(options.max ?? 50))
  const initial = Math.min(max, Math.max(1, Math.floor(options.initial ?? 20)))
  const budget = options.budgetSeconds ?? 30
  const window = Math.max(2, Math.floor(options.window ?? 32))
  const samples: Array<readonly [number, number]> = []
  let current: Estimate | undefined
  let chosen = initial

  return {
    observe: (messages, seconds) => {
      if (!(messages >= 1) || !Number.isFinite(seconds) || seconds < 0) return
      samples.push([messages, seconds])
      if (samples.length > window) samples.shift()
      current = fit(samples)
      chosen = current === undefined ? initial : sizeFor(current, budget, max)
      // Calls that all carried as many cannot tell a call's fixed cost from its messages' cost, so the fit
      // counts it all per message and would keep that size for ever, however much of it is fixed. One more
      // message tells them apart; its cost is at most twice what such a call took, within the hard limit
      // (twice the budget) since the call took at most the budget.
      if (chosen <= messages && messages < max && seconds <= budget && samples.every(([n]) => n === messages)) {
        chosen = messages + 1
      }
    },
    estimate: () => current,
    cost: (messages) => (current === undefined ? 0 : current.perCall + current.perMessage * messages),
    size: () => chosen
  }
}
