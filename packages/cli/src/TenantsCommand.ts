/**
 * `reword tenants`: the app's tenants (`@reword/tenants`' registry: each
 * Bitrix24 portal and Acquire account), with provider, state, setup state
 * and its last error, and each tenant's backlog (pending edits, dead letters,
 * the oldest pending edit's age) when the outbox's tables are in the same
 * database. It reads only; it never decrypts nor prints a credential, and
 * needs no master key.
 *
 * @since 0.1.0
 */
import type { Outbox, OutboxError } from "@reword/outbox"
import type { TenantRegistry } from "@reword/tenants"
import { Clock, type Config, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import type { SqlClient } from "effect/sql"
import { ExitCode } from "./internal/exit.ts"
import { HelpSections } from "./internal/help.ts"
import * as Journal from "./internal/journal.ts"
import * as OutboxModule from "./internal/outboxModule.ts"
import * as Output from "./internal/output.ts"
import * as Providers from "./internal/providers.ts"
import * as Tenants from "./internal/tenants.ts"

/**
 * What the command is built from: the providers (their secrets are scrubbed).
 *
 * @category options
 * @since 0.1.0
 */
export type Options = Providers.Options

const STATES = ["active", "suspended", "uninstalled"] as const

const flags = {
  database: Journal.flags.database,
  tablePrefix: Journal.flags.tablePrefix,
  registryPrefix: Flag.String("registry-prefix").pipe(
    Flag.withDescription(
      `The prefix of the tenant registry's table (default ${Tenants.DEFAULT_REGISTRY_PREFIX}: ${Tenants.DEFAULT_REGISTRY_PREFIX}tenants). Overrides ${Tenants.REGISTRY_PREFIX_VARIABLE}.`
    ),
    Flag.withMetavar("prefix"),
    Flag.optional
  ),
  state: Flag.Literals("state", STATES).pipe(
    Flag.withDescription("Only tenants in this state (active, suspended, uninstalled)."),
    Flag.optional
  ),
  provider: Journal.flags.provider,
  limit: Flag.Int("limit").pipe(
    Flag.withDescription("At most this many tenants, in the order of their ids (default 1000, at most 100000)."),
    Flag.withMetavar("n"),
    Flag.withDefault(1_000)
  ),
  json: Journal.flags.json
} as const

type Input = Command.Command.Config.Infer<typeof flags>

const PREFIX = /^[a-z_][a-z0-9_]{0,40}$/

/** Reads the listing; every failure printed, with its exit code. */
const read = (resolved: Providers.Resolved, output: Output.Output, input: Input) =>
  Effect.gen(function* () {
    const env = resolved.env()
    const registryPrefix =
      Option.getOrUndefined(input.registryPrefix) ??
      env[Tenants.REGISTRY_PREFIX_VARIABLE] ??
      Tenants.DEFAULT_REGISTRY_PREFIX
    const usage = (message: string) =>
      Journal.fail(output, "tenants", { reason: "Usage", message, exitCode: ExitCode.BadInput })
    if (!PREFIX.test(registryPrefix)) {
      return yield* usage("--registry-prefix must be lowercase letters, digits and _, at most 41 characters")
    }
    if (input.limit < 1 || input.limit > 100_000) return yield* usage("--limit must be from 1 to 100000")
    const { context, tablePrefix } = yield* Journal.connect(resolved, output, "tenants", input, "read")
    const [{ Outbox }, { TenantRegistry }] = yield* Effect.promise(() =>
      Promise.all([OutboxModule.load(), import("@reword/tenants")])
    )
    const storage = <A, R>(effect: Effect.Effect<A, OutboxError.StorageError | Config.ConfigError, R>) =>
      effect.pipe(
        Effect.catchTag("StorageError", (error) => Journal.storageFailure(output, "tenants", error)),
        Effect.catchTag("ConfigError", (error) =>
          Journal.fail(output, "tenants", {
            reason: "Configuration",
            message: error.message,
            exitCode: ExitCode.BadInput
          })
        )
      )
    const inDatabase = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) => Effect.provide(effect, context)
    const table = `${registryPrefix}tenants`
    const present = yield* inDatabase(Tenants.tableExists(table)).pipe(
      Effect.catchTag("SqlError", (error) =>
        Journal.fail(output, "tenants", {
          reason: "Storage",
          message: `the database could not be read: ${error.message}`,
          exitCode: ExitCode.ProviderFailure
        })
      )
    )
    if (!present) {
      return yield* Journal.fail(output, "tenants", {
        reason: "Usage",
        message: `this database holds no tenant registry (no table ${table})`,
        hint: `name the database the app's @reword/tenants registry writes, and its prefix (--registry-prefix, ${Tenants.REGISTRY_PREFIX_VARIABLE})`,
        exitCode: ExitCode.BadInput
      })
    }
    const registry: TenantRegistry.Service = yield* storage(
      inDatabase(TenantRegistry.make({ keys: Tenants.throwawayKeys(), tablePrefix: registryPrefix }))
    )
    // Opened with a throwaway key ring: `list` answers summaries without credentials, and unwraps no data key.
    const { summaries, truncated } = yield* Tenants.listAll(
      registry,
      { state: Option.getOrUndefined(input.state), provider: Option.getOrUndefined(input.provider) },
      input.limit
    ).pipe(
      Effect.catchTag("StorageError", (error) => Journal.storageFailure(output, "tenants", error)),
      Effect.catchTag("TenantError", (error) =>
        Journal.fail(output, "tenants", {
          reason: "Registry",
          message: error.message,
          exitCode: ExitCode.ProviderFailure
        })
      )
    )
    const backlogs = yield* backlogOf(inDatabase, Outbox, tablePrefix).pipe(storage)
    return Tenants.join(summaries, backlogs, truncated)
  })

/** Each tenant's backlog, or `undefined` when the outbox's tables are not in the database. */
const backlogOf = (
  inDatabase: <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) => Effect.Effect<A, E>,
  Outbox: typeof import("@reword/outbox").Outbox,
  tablePrefix: string | undefined
) =>
  inDatabase(Outbox.makeJournal({ tablePrefix })).pipe(
    Effect.map(Option.some),
    // No outbox tables under that prefix: the registry alone is listed.
    Effect.catchIf(
      (error): error is OutboxError.StorageError => error._tag === "StorageError" && error.problem === "Foreign",
      () => Effect.succeed(Option.none<Outbox.Journal>())
    ),
    Effect.flatMap(
      Option.match({
        onNone: () => Effect.succeed(undefined),
        onSome: (journal) =>
          Effect.map(Effect.catchTag(journal.totals(), "EditError", Effect.die), Tenants.backlogByTenant)
      })
    )
  )

/**
 * Builds the `tenants` command.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: Options = {}) => {
  const resolved = Providers.resolve(options)
  return Command.make("tenants", flags, (input) =>
    Effect.scoped(
      Effect.gen(function* () {
        const output = Output.make({ json: input.json })
        output.addSecrets(Tenants.keySecrets(resolved.env()))
        const listing = yield* read(resolved, output, input)
        const now = yield* Clock.currentTimeMillis
        if (output.json) return yield* output.outJson(Tenants.json(listing, now))
        for (const line of Tenants.lines(listing, now, Journal.ago)) yield* output.out(line)
      })
    )
  ).pipe(
    Command.withDescription(
      "Lists the app's tenants from its tenant registry (@reword/tenants: each Bitrix24 portal and Acquire account): provider, state, setup state and its last error, and, when the outbox's tables are in the same database, each tenant's backlog (pending edits, dead letters, the oldest pending edit's age). Reads only; never decrypts nor prints a credential, and needs no master key."
    ),
    Command.withShortDescription("The tenants of the registry: state, setup, backlog"),
    Command.withExamples([
      { command: "reword tenants --database reword.db", description: "Every tenant, with its backlog" },
      { command: "reword tenants --state active --provider bitrix24 --json", description: "Active portals, as JSON" }
    ]),
    Command.annotate(HelpSections, [
      Journal.databaseSection,
      {
        title: "REGISTRY",
        lines: [
          `${Tenants.REGISTRY_PREFIX_VARIABLE}  the prefix of the registry's table, when the app set one (--registry-prefix overrides it)`,
          "The registry is opened without the app's master key (REWORD_TENANT_KEY is not read; if set, it is scrubbed from",
          "the output like every secret): listing reads no credential. On PostgreSQL, opening the registry checks its",
          "migrations (a brief lock on its migrations table): the role needs the registry's own rights."
        ]
      },
      {
        title: "OUTPUT",
        lines: [
          "Without --json: the counts, then one line per tenant (TENANT, PROVIDER, STATE, SETUP and, with an outbox,",
          "PENDING, DEAD, OLDEST PENDING); a failed setup's error on the next line; tenants with a backlog that the",
          "registry does not hold (default: a single-tenant app's) last.",
          'With --json: {"tenants":[{"tenant","provider","state","setup","setupStep","setupError","hasCredentials",',
          '  "updatedAt","backlog":{"pending","failed","oldestPendingSince","oldestPendingAgeMs"}}],"outbox",',
          '  "unregistered":[{"tenant","pending","failed","oldestPendingSince","oldestPendingAgeMs"}],"truncated"}',
          '("backlog" is null when the outbox\'s tables are not in the database)'
        ]
      },
      {
        title: "EXIT CODES",
        lines: [
          "0  printed",
          "2  bad input: usage, no database named, or a database without a tenant registry",
          "3  the database failed",
          "1  an unexpected error (a bug: please report it)"
        ]
      }
    ])
  )
}

/**
 * The `tenants` command.
 *
 * @category utils
 * @since 0.1.0
 */
export const command = make()
