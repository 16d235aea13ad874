/**
 * Property tests replay fixed seeds in `pnpm test`: a red run names a defect, never the luck of a draw.
 * `pnpm test:explore` sets `REWORD_EXPLORE=1` and runs them with a new seed per test file instead;
 * fast-check prints the seed (and path) of any failure, to replay it with `REWORD_FAST_CHECK_SEED=<seed>`
 * and to pin as a fixed case. A property that gives its own `seed` keeps it either way.
 */
import fc from "fast-check"

/** The seed every property test of `pnpm test` replays. */
export const FIXED_SEED = 20_261_207

const given = process.env.REWORD_FAST_CHECK_SEED
const exploring = process.env.REWORD_EXPLORE === "1"

const seedOf = (): number => {
  if (given !== undefined && /^-?\d{1,10}$/.test(given.trim())) return Number(given.trim()) | 0
  // A new seed for each file explored; fast-check prints it with any failure.
  return exploring ? (Math.random() * 0x7fffffff) | 0 : FIXED_SEED
}

const seed = seedOf()
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed })
if (exploring) console.info(`fast-check seed ${seed}`)
