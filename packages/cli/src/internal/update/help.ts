/**
 * The help sections of `reword update`: the environment (every provider's
 * settings, from the descriptors and the registry), many messages, output,
 * sandbox and exit codes.
 */
import { Provider } from "@reword/core"
import type { HelpSection } from "../help.ts"
import * as Providers from "../providers.ts"
import { PLACEHOLDER } from "./rehearsal.ts"

/** The help sections, for the providers given. */
export const helpSections = (resolved: Providers.Resolved): ReadonlyArray<HelpSection> => {
  const variables: Array<readonly [string, string]> = [
    [Provider.PROVIDER_VARIABLE, `the provider: ${Providers.list(resolved.names)} (--provider overrides it)`],
    ...resolved.providers.flatMap((descriptor) =>
      descriptor.settings.map(
        (setting) =>
          [
            setting.env,
            `[${descriptor.name}] ${setting.description}${setting.optional === true ? " (optional)" : ""}${setting.secret === true ? " (secret)" : ""}`
          ] as const
      )
    ),
    ...resolved.extras.map((extra) => [extra.env, extra.help] as const)
  ]
  const width = Math.max(...variables.map(([name]) => name.length)) + 2
  const environment = [
    ...variables.map(([name, description]) => `${name.padEnd(width)}${description}`),
    "",
    "Each setting has a flag named after its variable (ACQUIRE_API_KEY: --acquire-api-key); a flag wins over",
    "the variable. Keep secrets in the environment: a flag's value shows in the process list and shell history.",
    "Secrets are never printed: output shows <redacted> in their place."
  ]
  return [
    { title: "ENVIRONMENT", lines: environment },
    {
      title: "MANY MESSAGES (--from)",
      lines: [
        "One request per line, as JSON (JSON lines), the same fields as the port's EditRequest:",
        '  {"ids":{"providerMessageId":8291},"text":"Meet at 10, not 11."}',
        '  {"ids":{"externalMessageId":"m-1","externalChatId":"c-1","externalAuthorId":"u-1"},"text":"Fixed",',
        '   "files":[{"url":"https://cdn.example.com/q3.pdf","name":"Q3.pdf"}],"language":"en"}',
        "Blank lines are skipped (line numbers still count them). A line that is not a valid request is that",
        "line's own InvalidRequest: the other lines still run. Lines go to the provider in batches (--batch-size);",
        "after each batch a progress line goes to stderr: updated 120/1000, failed 3.",
        "With --json, stdout holds one JSON result per request line, in input order, each with its line number:",
        '  {"line":1,"provider":"acquire","ids":{...},"text":"...","files":[]}   or   {"line":2,"error":{...}}'
      ]
    },
    {
      title: "OUTPUT",
      lines: [
        'Without --json: "Updated acquire message 8291: \\"new text\\"" on stdout; errors on stderr as',
        '"error: <message>" followed by "hint: <what to do>". On Bitrix24, a "note:" line on stderr says that a',
        "portal answers success even for a message id it never saw (or deleted), and then changes nothing.",
        "With --json: one JSON object on stdout and nothing else, the edited message",
        '  {"provider":"acquire","ids":{"providerMessageId":8291},"text":"...","files":[],"updatedAt":"..."}',
        "or the failure",
        '  {"error":{"provider":"acquire","operation":"update","reason":"NotFound","message":"...","retryable":false}}',
        "where reason is an EditError reason (InvalidRequest, Unauthorized, Forbidden, NotFound, RateLimited,",
        "Unavailable, Network, Timeout, Rejected, Unsupported, MalformedResponse), Configuration, Usage or",
        "Unexpected (a bug). Provider text is escaped: control characters print as \\uXXXX, on stdout and stderr."
      ]
    },
    {
      title: "SANDBOX (--sandbox)",
      lines: [
        "Rehearses the edit on a local emulator of the chosen provider, started for this run on 127.0.0.1:",
        "nothing leaves this machine, and no real setting (nor the token file) is read or written.",
        `The emulator is seeded with a message at the given ids ("${PLACEHOLDER}"),`,
        "the edit runs through the same editor as a real run, and what the emulator stores before and after is",
        'printed (with --json, under "sandbox"). Works with --from too (each request line is seeded first).'
      ]
    },
    {
      title: "THROUGH THE APP'S OUTBOX (--database, REWORD_OUTBOX_DATABASE)",
      lines: [
        "When the app's outbox database is configured, the edit goes through it: the message is found by",
        "--external-message-id (its provider and account from the outbox), the edit is submitted as its next",
        "version with source cli (in the journal, ordered with the app's edits: a settle re-send sends this text),",
        "and this command delivers that message itself for at most --wait (default 30 seconds). A message the",
        "outbox holds back (a backoff, a settle window) is sent when due; one an app worker delivers is left to it.",
        "When --wait passes first the edit stays queued for the app's workers: exit code 4. With --json the result",
        'has an "outbox" object (account, version, status, state, nextAttemptAt, lastReason, claim, attempts).',
        "--from does not go through the outbox (refused); --direct edits on the provider directly instead.",
        "Many tenants: --tenant names the tenant whose message it is, when several hold its id. The provider",
        "settings still come from the environment (give that tenant's): reword update does not read the tenant",
        "registry (its credentials are sealed under the app's master key)."
      ]
    },
    {
      title: "EXIT CODES",
      lines: [
        "0  success: the message (with --from, every message) was updated",
        "2  bad input: usage, an invalid request, content the provider cannot take (Unsupported), or configuration; nothing was sent",
        "3  the provider refused or failed (any reason other than InvalidRequest and Unsupported)",
        "   with --from: 3 if any line failed for a provider reason, else 2 if any line was invalid, else 0",
        "   (but 1 if any line met an unexpected error; every other line still has its outcome)",
        "4  through the app's outbox: queued there, not delivered within --wait: the app's workers deliver it",
        "1  an unexpected error (a bug: please report it), printed on one line, never as a stack trace"
      ]
    }
  ]
}
