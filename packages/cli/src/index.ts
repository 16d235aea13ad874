/**
 * @reword/cli: the `reword` command, to fix a relayed chat message by hand.
 *
 * @since 0.1.0
 */

export * as DashboardCommand from "./DashboardCommand.ts"
export * as HistoryCommand from "./HistoryCommand.ts"
export * as OutboxCommand from "./OutboxCommand.ts"
export * as RewordCommand from "./RewordCommand.ts"
export * as SandboxCommand from "./SandboxCommand.ts"
export * as UpdateCommand from "./UpdateCommand.ts"
