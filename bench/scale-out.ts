/**
 * Many instances, one portal (issue 15): N = 1, 2 and 4 app instances, each a
 * process with an outbox worker on one PostgreSQL database and a Bitrix24
 * editor sharing the portal's rate limit (`@reword/postgres`), start on a
 * backlog of edits against the Bitrix24 sandbox with a scaled bucket. Measured:
 * messages per second, portal calls per second against what the portal allows,
 * and limit answers. Runs on the PostgreSQL server `REWORD_TEST_POSTGRES_URL`
 * names; skipped, with a note, when none is named.
 */
import { rehearse } from "../scripts/rehearsal/run.ts"
import { count, percent, perSecond, seconds } from "./support/format.ts"
import type { Benchmark, BenchResult, Target } from "./support/report.ts"

const BUCKET = { drainPerSecond: 10, capacity: 10 }
const HEADROOM = 2
const CALL_MS = 200
const TARGET_SHARE = 0.9
const INSTANCES = [1, 2, 4] as const

const TITLE = "10. Many instances, one portal"

export const scaleOut: Benchmark = {
  name: "scale-out",
  run: async (context): Promise<BenchResult> => {
    const messages = context.short ? 400 : 2_000
    const url = process.env.REWORD_TEST_POSTGRES_URL
    const method = [
      `N app instances (processes: an outbox worker on PostgreSQL and a Bitrix24 editor whose rate limit and token pair`,
      `live in the same database) start on a backlog of ${count(messages)} edits (one per message, submitted before they`,
      `start) and deliver it to the Bitrix24 sandbox, whose bucket is scaled to ${BUCKET.drainPerSecond} calls/s after a`,
      `burst of ${BUCKET.capacity} and which holds each call ${CALL_MS} ms (its server time). The instances leave`,
      `${HEADROOM} calls of the bucket free. What the portal allows over the time the calls spanned: its burst, then its`,
      "drain rate. Messages per second: messages carried by accepted calls over that time (the adapter packs up to 50",
      "per call)."
    ].join(" ")
    const parameters = { messages, bucket: BUCKET, headroom: HEADROOM, callMs: CALL_MS, instances: INSTANCES }
    if (url === undefined || url === "") {
      return {
        name: "scale-out",
        title: TITLE,
        method,
        parameters,
        tables: [],
        targets: [],
        notes: ["Skipped: no PostgreSQL server named (set REWORD_TEST_POSTGRES_URL; CI does)."],
        data: { skipped: true }
      }
    }
    const runs = []
    for (const instances of INSTANCES) {
      context.log(`${instances} instance${instances === 1 ? "" : "s"}, ${count(messages)} messages`)
      const report = await rehearse({
        databaseUrl: url,
        instances,
        messages,
        backlog: true,
        bucket: BUCKET,
        headroom: HEADROOM,
        callMs: CALL_MS
      })
      const lost = report.lost.length + report.notNewest.length
      runs.push({ instances, report, lost })
      context.log(
        `  ${report.calls.accepted} calls in ${seconds(report.calls.seconds)}: ${percent(report.calls.share)} of the allowed rate, ${report.limitAnswers} limit answers, ${lost} lost`
      )
    }
    const targets: Array<Target> = runs.flatMap(({ instances, report }) => [
      {
        what: `${instances} instance${instances === 1 ? "" : "s"}: portal calls against what the portal allows`,
        target: `at least ${percent(TARGET_SHARE)}`,
        measured: percent(report.calls.share),
        value: report.calls.share,
        met: report.calls.share >= TARGET_SHARE
      },
      {
        what: `${instances} instance${instances === 1 ? "" : "s"}: QUERY_LIMIT_EXCEEDED answers`,
        target: "0",
        measured: count(report.limitAnswers),
        value: report.limitAnswers,
        met: report.limitAnswers === 0
      }
    ])
    return {
      name: "scale-out",
      title: TITLE,
      method,
      parameters,
      tables: [
        {
          columns: [
            "instances",
            "messages",
            "portal calls",
            "time",
            "msg/s",
            "calls/s",
            "allowed calls/s",
            "share of allowed",
            "QUERY_LIMIT_EXCEEDED",
            "lost edits"
          ],
          rows: runs.map(({ instances, report, lost }) => [
            instances,
            count(report.calls.messages),
            count(report.calls.accepted),
            seconds(report.calls.seconds),
            perSecond(report.calls.seconds > 0 ? report.calls.messages / report.calls.seconds : 0),
            report.calls.perSecond.toFixed(1),
            report.calls.allowedPerSecond.toFixed(1),
            percent(report.calls.share),
            report.limitAnswers,
            lost
          ])
        }
      ],
      targets,
      notes: [
        "The rate share counts the burst in what is allowed, so a short run (a few seconds) reads lower than a long one.",
        "Where the database runs on the same 2-core machine as the instances and the sandbox, their CPU is shared."
      ],
      data: runs.map(({ instances, report }) => ({ instances, calls: report.calls, limitAnswers: report.limitAnswers }))
    }
  }
}
