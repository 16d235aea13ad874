/**
 * What an install sets up on a portal, through the tenant's own client (its
 * token, its bucket): the connector registered (`imconnector.register`),
 * activated on the tenant's line (`imconnector.activate`), and the
 * connector's events bound to the app's handler (`event.bind`). Every step
 * is idempotent: registering the same `ID` again updates the connector,
 * activating an active line changes nothing, and a handler already bound
 * ("Handler already binded") is a success. The first step that fails stops
 * the rest; its name and error are kept in the tenant's settings (`setup`,
 * `setupStep`, `setupError`, `setupAt`), where the registry shows them, and
 * the next install, update or explicit call tries again.
 */
import type { Bitrix24Client } from "@reword/bitrix24"
import type { EditError } from "@reword/core"
import { Effect, Predicate } from "effect"
import type { Bitrix24Settings } from "./shapes.ts"

/**
 * The connector's events the relay needs bound.
 */
export const CONNECTOR_EVENTS = ["OnImConnectorMessageAdd", "OnImConnectorMessageUpdate", "OnImConnectorMessageDelete"]

/** A step of the setup. */
export type Step = "register" | "activate" | "bind"

/** What the app's options say to set up (see `Bitrix24App`). */
export interface SetupOptions {
  readonly name: string
  readonly icon: string
  readonly placementHandler: string
  readonly eventHandler: string | undefined
}

/** How a setup ended. */
export type Outcome =
  | { readonly state: "done" }
  | { readonly state: "failed"; readonly step: Step; readonly error: string }

/** A step's failure: which step, and what the portal said (never a secret: the client scrubs them). */
interface StepFailed {
  readonly step: Step
  readonly error: string
}

const stepFailed = (step: Step, error: string): StepFailed => ({ step, error })

const failed = (step: Step) => (error: EditError.EditError) =>
  stepFailed(step, `${error.reason._tag}: ${error.message}`)

/** The portal answered a refusal in `result` (HTTP 200, `result.result` false, `result.error`). */
const refusedIn = (result: unknown): string | undefined => {
  if (result === true) return undefined
  if (Predicate.hasProperty(result, "result") && result.result === true) return undefined
  const code = Predicate.hasProperty(result, "error") ? String(result.error).slice(0, 200) : "no result"
  return `the portal refused it: ${code}`
}

const checked = (step: Step, call: Effect.Effect<Bitrix24Client.Answer, EditError.EditError>) =>
  Effect.flatMap(Effect.mapError(call, failed(step)), (answer) => {
    const refusal = refusedIn(answer.result)
    return refusal === undefined ? Effect.void : Effect.fail(stepFailed(step, refusal))
  })

/** `event.bind` of one event; a handler already bound is a success. */
const bindOne = (client: Bitrix24Client.Service, event: string, handler: string) =>
  client.call("event.bind", { event, handler }).pipe(
    Effect.asVoid,
    Effect.catchTag("EditError", (error) =>
      /already bind/i.test(error.message) ? Effect.void : Effect.fail(failed("bind")(error))
    )
  )

/** Runs the steps in order, through `client`; never fails: the outcome says how it ended. */
export const run = (
  client: Bitrix24Client.Service,
  options: SetupOptions,
  settings: Pick<Bitrix24Settings, "connector" | "line">
): Effect.Effect<Outcome> =>
  Effect.gen(function* () {
    yield* checked(
      "register",
      client.call("imconnector.register", {
        ID: settings.connector,
        NAME: options.name,
        ICON: { DATA_IMAGE: options.icon },
        PLACEMENT_HANDLER: options.placementHandler
      })
    )
    yield* checked(
      "activate",
      client.call("imconnector.activate", { CONNECTOR: settings.connector, LINE: settings.line, ACTIVE: "1" })
    )
    const handler = options.eventHandler
    if (handler !== undefined) {
      yield* Effect.forEach(CONNECTOR_EVENTS, (event) => bindOne(client, event, handler), { discard: true })
    }
    return { state: "done" } as Outcome
  }).pipe(
    Effect.catch((failure: StepFailed) =>
      Effect.succeed<Outcome>({ state: "failed", step: failure.step, error: failure.error })
    )
  )

const SETUP_KEYS = ["setup", "setupStep", "setupError", "setupAt"]

/** `settings` with the outcome's keys in place of the previous outcome's. */
export const withOutcome = <S extends Readonly<Record<string, unknown>>>(
  settings: S,
  outcome: Outcome,
  now: number
): S => {
  const kept = Object.fromEntries(Object.entries(settings).filter(([key]) => !SETUP_KEYS.includes(key)))
  const recorded =
    outcome.state === "done"
      ? { setup: "done", setupAt: now }
      : { setup: "failed", setupStep: outcome.step, setupError: outcome.error.slice(0, 500), setupAt: now }
  return { ...kept, ...recorded } as unknown as S
}
