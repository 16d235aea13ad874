/**
 * Provider base URLs are HTTPS. Plain HTTP is allowed only to a loopback
 * address (local test servers, sandboxes), and only when the app opts in.
 *
 * @since 0.1.0
 */
import { Result } from "effect"

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"])

/**
 * Whether a host name is a loopback address (`localhost`, `127.0.0.0/8`, `::1`).
 *
 * @category guards
 * @since 0.1.0
 */
export const isLoopback = (hostname: string): boolean =>
  LOOPBACK_HOSTS.has(hostname) || /^127(\.\d{1,3}){3}$/.test(hostname)

/**
 * Parses and checks a base URL: absolute, `https:` (or `http:` to loopback when
 * `allowInsecureLoopback`), no credentials, query or fragment in it. Fails with
 * a sentence that says what is wrong.
 *
 * @category utils
 * @since 0.1.0
 */
export const parse = (
  value: string,
  options: { readonly allowInsecureLoopback?: boolean | undefined } = {}
): Result.Result<URL, string> => {
  // The value is never repeated: a secret pasted into the wrong setting must not reach a log.
  if (!URL.canParse(value)) return Result.fail("is not an absolute URL (such as https://acme.example.com)")
  const url = new URL(value)
  if (url.username !== "" || url.password !== "") return Result.fail("must not carry credentials in the URL")
  if (url.search !== "" || url.hash !== "") return Result.fail("must not have a query or a fragment")
  if (url.protocol === "https:") return Result.succeed(url)
  if (url.protocol === "http:") {
    if (!isLoopback(url.hostname))
      return Result.fail("must use https (plain http is allowed only to a loopback address)")
    if (options.allowInsecureLoopback !== true) {
      return Result.fail("plain http to a loopback address needs allowInsecureLoopback to be turned on")
    }
    return Result.succeed(url)
  }
  return Result.fail(`must use https, not ${url.protocol.replace(":", "")}`)
}
