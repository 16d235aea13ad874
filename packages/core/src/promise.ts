/**
 * The Promise API of reword, for apps not written with Effect.
 *
 * @example
 * ```ts
 * import { createEditor, isEditError } from "@reword/core/promise"
 * ```
 *
 * @since 0.1.0
 */
export { EditError, isEditError } from "./EditError.ts"
export type { EditedMessage } from "./EditedMessage.ts"
export type { EditRequestInput } from "./EditRequest.ts"
export {
  type CallOptions,
  ConfigurationError,
  type ConfigurationErrorJson,
  type CreateEditorOptions,
  createEditor,
  DisposedError,
  type Editor,
  type Settled
} from "./PromiseEditor.ts"
