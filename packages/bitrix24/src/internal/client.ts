/** The public client (`Bitrix24Client.Service`) over the internal calls. */
import { EditError } from "@reword/core"
import { Effect } from "effect"
import type { Service } from "../Bitrix24Client.ts"
import * as Bitrix24Config from "../Bitrix24Config.ts"
import type * as Calls from "./calls.ts"

type Reason = EditError.EditErrorReason

/**
 * A REST method name: letters, digits, dots and underscores, with at least one
 * that is not a dot (`.` and `..` would be path segments, not methods).
 */
const isMethodName = (method: string): boolean => /^[A-Za-z0-9_.]+$/.test(method) && /[A-Za-z0-9_]/.test(method)

const toError =
  (operation: EditError.Operation) =>
  (reason: Reason): EditError.EditError =>
    EditError.make({ provider: Bitrix24Config.name, operation, reason })

/**
 * The public client over the internal calls: it checks a method's name, and
 * wraps a call's reason in an `EditError` once, with its operation. The
 * editor builds its own client this way, over the calls it edits with.
 */
export const fromCalls = (calls: Calls.Calls): Service => ({
  portalUrl: calls.portalUrl,
  target: calls.target,
  secrets: calls.session.secrets(),
  call: (method, params, operation = "get") =>
    isMethodName(method)
      ? Effect.mapError(calls.call(method, params), toError(operation))
      : Effect.fail(
          toError(operation)(
            new EditError.InvalidRequest({
              problems: [
                {
                  path: "method",
                  message:
                    "must be a REST method name: letters, digits, dots and underscores, such as imconnector.register"
                }
              ]
            })
          )
        ),
  updateMessages: (input) => Effect.mapError(calls.updateMessages(input), toError("update")),
  sendMessages: (input) => Effect.mapError(calls.sendMessages(input), toError("send")),
  deleteMessages: (input) => Effect.mapError(calls.deleteMessages(input), toError("delete"))
})
