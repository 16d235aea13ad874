/**
 * ky for the hand-written contenders. The workspace root does not depend on ky
 * (core does), and the benchmarks add no dependency, so it is imported from
 * core's own `node_modules` by a relative path: the very copy reword runs on.
 */
export type { KyInstance, Options as KyOptions } from "../../packages/core/node_modules/ky/distribution/index.js"
export { default } from "../../packages/core/node_modules/ky/distribution/index.js"

/** The file to import for "ky alone" in a fresh process (import cost). */
export const kyEntry: URL = new URL("../../packages/core/node_modules/ky/distribution/index.js", import.meta.url)
