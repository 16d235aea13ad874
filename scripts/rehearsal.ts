/**
 * `pnpm rehearsal`: many app instances against one Bitrix24 portal, locally.
 * Starts the instances as processes (each an outbox worker and a Bitrix24
 * editor, their token pair and rate limit in PostgreSQL), the Bitrix24 sandbox
 * as the portal, and the database (a throwaway PostgreSQL server from the
 * PostgreSQL installed here, unless `--database-url` or
 * `REWORD_TEST_POSTGRES_URL` names one); submits edits across the instances
 * while one joins late, one leaves, one is killed with SIGKILL mid-delivery
 * and the access token expires; then prints what happened. Exits 1 when an
 * edit was lost or anything else went wrong.
 *
 *   pnpm rehearsal                         4 instances, 200 messages, 3 edits each
 *   pnpm rehearsal --short                 4 instances, 40 messages: a quick check
 *   pnpm rehearsal --instances 6 --messages 500 --versions 4
 *   pnpm rehearsal --database-url postgres://user@host:5432/db
 *   pnpm rehearsal --json                  the report as JSON
 */
import { parseArgs } from "node:util"
import { describe, passed, rehearse } from "./rehearsal/run.ts"

const { values } = parseArgs({
  options: {
    short: { type: "boolean", default: false },
    instances: { type: "string" },
    messages: { type: "string" },
    versions: { type: "string" },
    "database-url": { type: "string" },
    json: { type: "boolean", default: false }
  }
})

const number = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined
  const parsed = Number(value)
  if (!Number.isSafeInteger(parsed) || parsed < 1) {
    console.error(`--${name} must be a whole number, 1 or more`)
    process.exit(2)
  }
  return parsed
}

const json = values.json === true
const log = (line: string) => {
  if (!json) console.log(line)
}
const report = await rehearse({
  instances: number(values.instances, "instances"),
  messages: number(values.messages, "messages") ?? (values.short === true ? 40 : undefined),
  versions: number(values.versions, "versions"),
  databaseUrl: values["database-url"] ?? process.env.REWORD_TEST_POSTGRES_URL,
  log
})
if (json) console.log(JSON.stringify(report, null, 2))
else {
  console.log("")
  for (const line of describe(report)) console.log(line)
  console.log(passed(report) ? "\nrehearsal passed" : "\nrehearsal FAILED")
}
process.exit(passed(report) ? 0 : 1)
