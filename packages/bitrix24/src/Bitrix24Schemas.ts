/**
 * The wire format of the imconnector message methods and of the OAuth server,
 * as types: what `Bitrix24Client`'s `sendMessages`, `updateMessages` and
 * `deleteMessages` take and answer. The Schemas that read the answers are the
 * adapter's own (a real portal's answers are not always what its
 * documentation says: `user` as a string or a number, `message.date` as `{}`,
 * extra fields ignored).
 *
 * @since 0.1.0
 */
export type {
  Chat,
  DeleteItem,
  File,
  IdValue,
  Message,
  MessageItem,
  MessagesResponse,
  ResultItem,
  Time,
  TokenResponse,
  User
} from "./internal/schemas.ts"
