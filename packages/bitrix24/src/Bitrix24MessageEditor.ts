/**
 * The `MessageEditor` of Bitrix24 Open Lines: a neutral edit becomes one
 * `MESSAGES[i]` of `imconnector.update.messages`, and `updateMany` packs many
 * edits into one call, then splits the answer back into one outcome per edit.
 * The portal cannot tell reword that a message id is unknown (it answers
 * success and changes nothing): keep the ids you sent with.
 *
 * @since 0.1.0
 */
import {
  Capabilities,
  EditError,
  EditedMessage,
  type EditRequest,
  HttpTransport,
  MessageEditor,
  OptionCheck,
  Provider
} from "@reword/core"
import { type Array as Arr, Clock, type Config, Context, Duration, Effect, Layer, Option, Result } from "effect"
import * as Bitrix24Client from "./Bitrix24Client.ts"
import * as Bitrix24Config from "./Bitrix24Config.ts"
import { itemErrors, type MessageItem, type ResultItem } from "./Bitrix24Schemas.ts"
import { itemReason } from "./internal/errors.ts"
import * as OAuth from "./OAuth.ts"
import * as RateLimiter from "./RateLimiter.ts"
import * as ServerTime from "./ServerTime.ts"
import * as TokenStore from "./TokenStore.ts"

type Reason = EditError.EditErrorReason

/**
 * How many messages the first `imconnector.update.messages` calls carry,
 * before the portal's answers told what a message costs: small enough to stay
 * well inside the portal's 60 s per request. Without a `chunkSize` option,
 * later calls carry what the server time per message allows, up to
 * {@link MAX_CHUNK_SIZE} (see `ServerTime`).
 *
 * @since 0.1.0
 */
export const DEFAULT_CHUNK_SIZE = 20

/**
 * The most a chunk may hold (the size of a REST `batch`, the portal's own unit of "many").
 *
 * @since 0.1.0
 */
export const MAX_CHUNK_SIZE = 50

/**
 * Editor options (not settings: they are code, not configuration).
 *
 * @since 0.1.0
 */
export interface Options extends MessageEditor.EditorOptions {
  /**
   * Messages per `imconnector.update.messages` call, fixed (from 1 to 50).
   * Default: chosen from the portal's answers (`time.duration` of calls
   * carrying different numbers of messages): 20 until the first answer, then
   * as many as a call carries within half the time a request may take (the
   * portal's 60 s, or the transport's timeout when shorter), up to 50.
   */
  readonly chunkSize?: number | undefined
  /** The rate limiter's bucket and operating-time options (ignored when a `RateLimiter` is given or provided). */
  readonly rateLimit?: RateLimiter.Options | undefined
  /** A limiter to share with other editors of the same portals. A `RateLimiter` service in context works too. */
  readonly rateLimiter?: RateLimiter.Service | undefined
  /** When a method used up its operating time: `wait` for the reset (default), or `fail` with `retryAfter`. */
  readonly onOperatingLimit?: Bitrix24Client.OnOperatingLimit | undefined
  /**
   * Where refreshed tokens are stored: an Effect `TokenStore.Service`, or a
   * Promise-shaped store (`{ load(): Promise<PlainTokens | undefined>,
   * save(tokens): Promise<void> }`, plain strings). A `TokenStore` service in
   * context works too; default: memory.
   */
  readonly tokenStore?: TokenStore.Service | TokenStore.PromiseStore | undefined
  /**
   * How long one `load` or `save` of the token store may take (default 10 s,
   * at most 2^31-1 ms). Past it the call fails with a retryable `Unavailable`
   * (code `TOKEN_STORE`) and later calls go on.
   */
  readonly tokenStoreTimeout?: Duration.Input | undefined
  /** HTTP settings (timeout, body cap, custom fetch, headers). */
  readonly transport?: HttpTransport.TransportOptions | undefined
}

/**
 * The Bitrix24 editor: the neutral editor, plus the low-level client and
 * editors for other connectors or lines.
 *
 * @since 0.1.0
 */
export interface Service extends MessageEditor.Service {
  /**
   * Edits one message through `imconnector.update.messages`.
   *
   * **An unknown message id is not an error.** Bitrix24 answers success for a
   * message id it never received (or one that was deleted) and changes
   * nothing: the portal cannot tell reword that a message id is unknown, so
   * do not count on `NotFound` for it. Keep the ids you sent with
   * (`imconnector.send.messages`) and edit with exactly those.
   */
  readonly update: MessageEditor.Service["update"]
  /** The low-level client, sharing this editor's tokens and rate limiter. */
  readonly client: Bitrix24Client.Service
  /**
   * An editor for another connector and/or line, sharing this editor's tokens,
   * rate limiter and options. The neutral request has no place for them, so
   * the choice is made per editor.
   */
  readonly updateFor: (target: Partial<Bitrix24Client.Target>) => MessageEditor.Service
}

/**
 * The Bitrix24 editor as a service (its layers also provide it as the neutral
 * `MessageEditor` and the `Bitrix24Client`).
 *
 * @since 0.1.0
 */
export class Bitrix24MessageEditor extends Context.Service<Bitrix24MessageEditor, Service>()(
  "@reword/bitrix24/Bitrix24MessageEditor"
) {}

/**
 * What Bitrix24 can do.
 *
 * @since 0.1.0
 */
export const capabilities = (chunkSize: number = DEFAULT_CHUNK_SIZE): Capabilities.Capabilities =>
  new Capabilities.Capabilities({
    requiredIds: ["externalMessageId", "externalChatId", "externalAuthorId"],
    files: true,
    authorDetails: true,
    chatDetails: true,
    language: false,
    maxMessagesPerCall: chunkSize
  })

const NAME_MAX = 25
// Letters of any language (with their combining marks), spaces, hyphens, apostrophes.
const NAME_PATTERN = /^[\p{L}\p{M} '’-]*$/u
// 9999-12-31T23:59:59Z: beyond it, no portal stores the date.
const MAX_UNIX_SECONDS = 253_402_300_799

/**
 * Bitrix24's own rules, checked before anything is sent: names (letters,
 * spaces, hyphens, apostrophes; at most 25 characters) and the date as Unix
 * seconds. Core checks the rest (ids, text or files, URLs, gender).
 *
 * @since 0.1.0
 */
export const validate = (request: EditRequest.EditRequest): ReadonlyArray<EditError.Problem> => {
  const problems: Array<EditError.Problem> = []
  const name = (path: string, value: string | undefined) => {
    if (value === undefined) return
    if (value.trim().length === 0) problems.push({ path, message: "must not be blank when given" })
    if (Array.from(value).length > NAME_MAX) problems.push({ path, message: `must be at most ${NAME_MAX} characters` })
    if (!NAME_PATTERN.test(value)) {
      problems.push({ path, message: "may hold only letters, spaces, hyphens and apostrophes (Bitrix24 rule)" })
    }
  }
  name("author.firstName", request.author?.firstName)
  name("author.lastName", request.author?.lastName)
  if (request.editedAt !== undefined) {
    const seconds = Math.floor(request.editedAt.getTime() / 1000)
    if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > MAX_UNIX_SECONDS) {
      problems.push({ path: "editedAt", message: "must be a date Bitrix24 can store as Unix seconds (1970 to 9999)" })
    }
  }
  return problems
}

/**
 * The `MESSAGES[i]` of a neutral request. `now` (Unix seconds) dates an edit
 * that carries no `editedAt`.
 *
 * @since 0.1.0
 */
export const toMessageItem = (request: EditRequest.EditRequest, now: number): MessageItem => {
  const author = request.author
  const chat = request.chat
  return {
    user: {
      id: request.ids.externalAuthorId ?? "",
      ...(author?.firstName === undefined ? {} : { name: author.firstName }),
      ...(author?.lastName === undefined ? {} : { last_name: author.lastName }),
      ...(author?.avatarUrl === undefined ? {} : { picture: { url: author.avatarUrl } }),
      ...(author?.profileUrl === undefined ? {} : { url: author.profileUrl }),
      ...(author?.gender === undefined ? {} : { gender: author.gender }),
      ...(author?.email === undefined ? {} : { email: author.email }),
      ...(author?.phone === undefined ? {} : { phone: author.phone })
    },
    message: {
      id: request.ids.externalMessageId ?? "",
      date: request.editedAt === undefined ? now : Math.floor(request.editedAt.getTime() / 1000),
      ...(request.text === undefined ? {} : { text: request.text }),
      ...(request.files === undefined
        ? {}
        : {
            files: request.files.map((file) => ({
              url: file.url,
              ...(file.name === undefined ? {} : { name: file.name })
            }))
          })
    },
    chat: {
      id: request.ids.externalChatId ?? "",
      ...(chat?.name === undefined ? {} : { name: chat.name }),
      ...(chat?.url === undefined ? {} : { url: chat.url })
    }
  }
}

/**
 * The outcome of one request from its result item: the edited message, or that
 * item's own reason with the portal's `ERRORS` text.
 *
 * @since 0.1.0
 */
export const outcomeOf = (
  request: EditRequest.EditRequest,
  item: ResultItem,
  index: number
): Result.Result<EditedMessage.EditedMessage, Reason> => {
  if (!item.SUCCESS) return Result.fail(itemReason(itemErrors(item), index))
  const text = item.message?.text
  return Result.succeed(
    new EditedMessage.EditedMessage(
      {
        provider: Bitrix24Client.PROVIDER,
        ids: request.ids,
        ...(text !== undefined && text !== null ? { text } : request.text === undefined ? {} : { text: request.text }),
        files: request.files ?? []
        // No updatedAt: the portal answers the date as {}, so it does not say.
      },
      // Its fields have no checks of their own beyond their types (the ids and files were checked already).
      TRUSTED
    )
  )
}

const TRUSTED = { disableChecks: true } as const

/**
 * The message id an item echoes (`message.id`), as text, or `undefined` when
 * it echoes none. PHP may send a numeric id as a number.
 */
const echoedId = (item: ResultItem): string | undefined => {
  const id = item.message?.id
  return id === undefined ? undefined : String(id)
}

/**
 * One item's outcome, judged on its own: an item that echoes another message
 * id than the one sent in its place is `MalformedResponse` (never a success
 * reported for another message), and an item that cannot be read is that
 * item's `MalformedResponse`, never the other items' loss.
 */
const itemOutcome = (
  request: EditRequest.EditRequest,
  sentId: string,
  item: ResultItem,
  index: number
): Result.Result<EditedMessage.EditedMessage, Reason> => {
  try {
    const echoed = echoedId(item)
    if (echoed !== undefined && echoed !== sentId) {
      return Result.fail(
        new EditError.MalformedResponse({
          status: 200,
          description: `result item ${index} names another message than the one sent in its place: the portal's answer cannot be matched to this request`
        })
      )
    }
    return outcomeOf(request, item, index)
  } catch {
    return Result.fail(
      new EditError.MalformedResponse({
        status: 200,
        description: `result item ${index} could not be read (its shape is beyond what reword reads)`
      })
    )
  }
}

const checkChunkSize = (chunkSize: number | undefined): number => {
  const size = chunkSize ?? DEFAULT_CHUNK_SIZE
  if (!Number.isInteger(size) || size < 1 || size > MAX_CHUNK_SIZE) {
    throw new RangeError(`chunkSize must be an integer from 1 to ${MAX_CHUNK_SIZE}`)
  }
  return size
}

/**
 * An editor over a client (for a given connector and line). Concurrent
 * `update` calls packed into one portal call run in `context` (the one
 * {@link make} was run in; default: Effect's defaults), never in one of
 * their callers'.
 *
 * @since 0.1.0
 */
export const fromClient = (
  client: Bitrix24Client.Service,
  options: Options = {},
  target: Partial<Bitrix24Client.Target> = {},
  serverTime: ServerTime.ServerTime = serverTimeFor(options),
  context?: Context.Context<never>
): Service => {
  const fixed = options.chunkSize !== undefined
  const chunkSize = fixed ? checkChunkSize(options.chunkSize) : MAX_CHUNK_SIZE
  const updateBatch = (
    requests: Arr.NonEmptyReadonlyArray<EditRequest.EditRequest>
  ): Effect.Effect<ReadonlyArray<Result.Result<EditedMessage.EditedMessage, Reason>>, Reason> =>
    Effect.withFiber((fiber) => {
      const now = Math.floor(fiber.getRef(Clock.Clock).currentTimeMillisUnsafe() / 1000)
      const messages = requests.map((request) =>
        toMessageItem(request, now)
      ) as unknown as Arr.NonEmptyReadonlyArray<MessageItem>
      return client
        .updateMessages({
          connector: target.connector,
          line: target.line,
          messages,
          expectedSeconds: serverTime.cost(messages.length)
        })
        .pipe(
          Effect.mapError((error) => error.reason),
          Effect.map((response) => {
            const duration = response.time?.duration
            if (duration !== undefined) serverTime.observe(messages.length, duration)
            return requests.map((request, index) => {
              const item = response.items[index]
              return item === undefined
                ? Result.fail<Reason>(new EditError.MalformedResponse({ description: `no result item ${index}` }))
                : itemOutcome(request, messages[index]?.message.id ?? "", item, index)
            })
          })
        )
    })

  const editor = MessageEditor.make(
    {
      provider: Bitrix24Client.PROVIDER,
      capabilities: capabilities(chunkSize),
      validate,
      ...(client.secrets === undefined ? {} : { secrets: client.secrets }),
      update: (request) =>
        Effect.flatMap(updateBatch([request]), (results) =>
          Effect.fromResult(
            results[0] ?? Result.fail(new EditError.MalformedResponse({ description: "no result item" }))
          )
        ),
      updateBatch,
      ...(fixed ? {} : { batchSize: serverTime.size }),
      ...(context === undefined ? {} : { context })
    },
    options
  )
  return {
    ...editor,
    client,
    updateFor: (other) => fromClient(client, options, { ...target, ...other }, serverTime, context)
  }
}

/** The server-time model of an editor: its budget is half of the portal's 60 s, or of the transport's timeout. */
const serverTimeFor = (options: Options): ServerTime.ServerTime => {
  const timeout = options.transport?.timeout
  const timeoutSeconds = timeout === undefined ? 30 : Duration.toSeconds(Duration.fromInputUnsafe(timeout))
  return ServerTime.make({
    max: MAX_CHUNK_SIZE,
    initial: DEFAULT_CHUNK_SIZE,
    budgetSeconds: Math.min(60, timeoutSeconds) / 2
  })
}

/**
 * The problems of the editor's options, each naming its field (core's checks,
 * plus `chunkSize`, `onOperatingLimit` and `rateLimit`).
 *
 * @since 0.1.0
 */
export const validateOptions = (options: Options): ReadonlyArray<EditError.Problem> => {
  const rateLimit = options.rateLimit
  const bucket = rateLimit?.bucket
  const durationBounds = { minMillis: 0, maxMillis: Duration.toMillis(RateLimiter.OPERATING_WINDOW) }
  return [
    ...OptionCheck.editorOptions(options),
    ...OptionCheck.integer("chunkSize", options.chunkSize, { min: 1, max: MAX_CHUNK_SIZE }),
    ...OptionCheck.oneOf("onOperatingLimit", options.onOperatingLimit, ["wait", "fail"]),
    ...(typeof bucket === "object" && bucket !== null
      ? [
          ...OptionCheck.finite("rateLimit.bucket.drainPerSecond", bucket.drainPerSecond, {
            min: 0,
            exclusiveMin: true
          }),
          ...OptionCheck.integer("rateLimit.bucket.capacity", bucket.capacity, { min: 1 })
        ]
      : OptionCheck.oneOf("rateLimit.bucket", bucket, Object.keys(RateLimiter.presets))),
    ...OptionCheck.integer("rateLimit.headroom", rateLimit?.headroom, { min: 0 }),
    ...OptionCheck.duration("rateLimit.operatingLimit", rateLimit?.operatingLimit, durationBounds),
    ...OptionCheck.duration("rateLimit.operatingMargin", rateLimit?.operatingMargin, durationBounds),
    ...OptionCheck.duration("rateLimit.operatingFallback", rateLimit?.operatingFallback, durationBounds)
  ]
}

/**
 * Builds the editor from checked settings: the token store's pair wins over the
 * configured one (it is newer: refresh tokens rotate), unless the portal or the
 * OAuth server refuses it while the configuration holds another pair (the
 * application was authorized again): then the configured pair takes over, and
 * is stored once it works.
 *
 * @since 0.1.0
 */
export const make = (
  settings: Bitrix24Config.Settings,
  options: Options = {}
): Effect.Effect<Service, Config.ConfigError> =>
  Effect.gen(function* () {
    yield* OptionCheck.check(validateOptions(options))
    const timeoutProblem = TokenStore.checkTimeout(options.tokenStoreTimeout)
    if (timeoutProblem !== undefined) return yield* Effect.fail(Provider.configError(`Invalid ${timeoutProblem}`))
    const given = options.tokenStore
    if (given !== undefined && !isStore(given)) {
      return yield* Effect.fail(
        Provider.configError(
          "Invalid tokenStore: give a TokenStore service ({ load: Effect, save }) or a Promise-shaped store ({ load(), save(tokens) })"
        )
      )
    }
    const store = TokenStore.withDeadline(
      given === undefined
        ? (Option.getOrUndefined(yield* Effect.serviceOption(TokenStore.TokenStore)) ?? TokenStore.makeMemory())
        : TokenStore.fromAny(given),
      options.tokenStoreTimeout ?? TokenStore.DEFAULT_TIMEOUT
    )
    const stored = yield* store.load.pipe(
      Effect.mapError((error) => Provider.configError(`Could not read the Bitrix24 token store: ${error.message}`))
    )
    const tokens: TokenStore.Tokens = Option.getOrElse(stored, () => ({
      accessToken: settings.accessToken,
      refreshToken: settings.refreshToken
    }))
    const transport = HttpTransport.make(options.transport)
    const session = OAuth.makeSession({
      tokens,
      configured: { accessToken: settings.accessToken, refreshToken: settings.refreshToken },
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      oauthUrl: settings.oauthUrl,
      allowInsecureLoopback: settings.allowInsecureLoopback,
      store,
      transport
    })
    const limiter =
      options.rateLimiter ??
      Option.getOrUndefined(yield* Effect.serviceOption(RateLimiter.RateLimiter)) ??
      (yield* Effect.try({
        try: () => RateLimiter.make(options.rateLimit),
        catch: (error) =>
          Provider.configError(`Invalid rateLimit: ${error instanceof Error ? error.message : String(error)}`)
      }))
    const client = Bitrix24Client.make({
      portalUrl: settings.portalUrl,
      target: { connector: settings.connector, line: settings.line },
      session,
      limiter,
      transport,
      onOperatingLimit: options.onOperatingLimit,
      // A wait for the operating reset is part of the retry budget.
      maxOperatingWait: options.retry?.maxElapsed
    })
    // Packed calls run in the context the editor is built in (its Clock, logger, tracer), never a caller's.
    const context = yield* Effect.context<never>()
    return yield* Effect.try({
      try: () => fromClient(client, options, {}, serverTimeFor(options), context),
      catch: (error) => Provider.configError(error instanceof Error ? error.message : String(error))
    })
  })

const isStore = (value: unknown): value is TokenStore.Service | TokenStore.PromiseStore =>
  typeof value === "object" &&
  value !== null &&
  "load" in value &&
  "save" in value &&
  typeof value.save === "function" &&
  (typeof value.load === "function" || Effect.isEffect(value.load))

const contextOf = (service: Service) =>
  Context.make(Bitrix24MessageEditor, service).pipe(
    Context.add(MessageEditor.MessageEditor, service),
    Context.add(Bitrix24Client.Bitrix24Client, service.client)
  )

/**
 * The editor as a layer, from settings. Provides the neutral `MessageEditor`,
 * the `Bitrix24MessageEditor` and the `Bitrix24Client`. Uses the `TokenStore`
 * and `RateLimiter` in context when there are some.
 *
 * @since 0.1.0
 */
export const layer = (
  settings: Bitrix24Config.Settings,
  options: Options = {}
): Layer.Layer<
  Bitrix24MessageEditor | MessageEditor.MessageEditor | Bitrix24Client.Bitrix24Client,
  Config.ConfigError
> => Layer.effectContext(Effect.map(make(settings, options), contextOf))

/**
 * The editor as a layer, with its settings read from the environment (or the
 * current `ConfigProvider`): `BITRIX24_PORTAL_URL`, `BITRIX24_ACCESS_TOKEN`, ...
 *
 * @since 0.1.0
 */
export const layerConfig = (
  options: Options = {}
): Layer.Layer<
  Bitrix24MessageEditor | MessageEditor.MessageEditor | Bitrix24Client.Bitrix24Client,
  Config.ConfigError
> =>
  Layer.effectContext(
    Effect.gen(function* () {
      const settings = yield* Bitrix24Config.read()
      return contextOf(yield* make(settings, options))
    })
  )
