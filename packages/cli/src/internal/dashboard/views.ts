/**
 * The dashboard's pages, rendered on the server: the backlog (with the chart),
 * the dead letters (each with a re-drive button), and one message's timeline.
 * Every text read from the database goes through `clean` (secrets scrubbed,
 * controls made visible) and is escaped by `html`.
 */
import type { Outbox } from "@reword/outbox"
import { chart } from "./chart.ts"
import { type Clean, type Html, html, query, type Value } from "./html.ts"
import { AGES, type Event, eventsOf, type Group, type Overview, WINDOWS, type WindowName } from "./model.ts"

/** What every page is rendered with. */
export interface Page {
  readonly clean: Clean
  /** The per-run token every re-drive form carries. */
  readonly redriveToken: string
  readonly now: number
}

const at = (date: Date | undefined): string => (date === undefined ? "-" : date.toISOString().replace(".000Z", "Z"))

/** How long ago, roughly. */
export const ago = (date: Date, now: number): string => {
  const seconds = Math.max(0, Math.round((now - date.getTime()) / 1_000))
  if (seconds < 120) return `${seconds} s`
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min`
  if (seconds < 172_800) return `${Math.round(seconds / 3_600)} h`
  return `${Math.round(seconds / 86_400)} d`
}

/** A whole page: the navigation, the title, the content. */
export const layout = (title: string, current: string, content: Value): Html =>
  html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin"><title>${title} · reword outbox</title><link rel="stylesheet" href="/style.css"></head>
<body><header><strong>reword outbox</strong><nav>
<a href="/"${current === "backlog" ? html` aria-current="page"` : ""}>Backlog</a>
<a href="/dead"${current === "dead" ? html` aria-current="page"` : ""}>Dead letters</a>
<form method="get" action="/message" class="find"><label>Message <input name="id" required maxlength="512" placeholder="external message id"></label> <button>Show</button></form>
</nav></header>
<main><h1>${title}</h1>${content}</main></body></html>`

const messageLink = (page: Page, entry: Outbox.Entry): Html =>
  html`<a href="/message${query({ id: entry.ids.externalMessageId, tenant: entry.tenant, provider: entry.provider, account: entry.account })}">${page.clean(entry.ids.externalMessageId)}</a>`

/** The tenant filter: a form that reloads the page with `?tenant=` (empty: every tenant). */
const tenantFilter = (
  page: Page,
  path: string,
  tenant: string | undefined,
  keep: Readonly<Record<string, string>> = {}
) =>
  html`<form method="get" action="${path}" class="filter">${Object.entries(keep).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`
  )}<label>Tenant <input name="tenant" id="tenant-filter" maxlength="128" placeholder="every tenant" value="${tenant === undefined ? "" : page.clean(tenant)}"></label> <button>Filter</button>${tenant === undefined ? "" : html` <a href="${path}${query(keep)}">every tenant</a>`}</form>`

const tenantLink = (page: Page, path: string, tenant: string): Html =>
  html`<a href="${path}${query({ tenant })}">${page.clean(tenant)}</a>`

/** The backlog page: counts, the chart, the backlog by provider, account and age. */
export const backlog = (page: Page, overview: Overview): Html => {
  const windows = (Object.keys(WINDOWS) as Array<WindowName>).map((name) =>
    name === overview.window
      ? html` <strong>${name}</strong>`
      : html` <a href="/${query({ window: name, tenant: overview.tenant })}">${name}</a>`
  )
  const ages = (group: Group) =>
    html`<td class="n">${group.pending}</td><td class="n">${group.failed}</td>${group.ages.map((n) => html`<td class="n">${n}</td>`)}<td>${ago(group.oldest, page.now)}</td>`
  const tenantRows = overview.tenants.map(
    (group) => html`<tr><td>${tenantLink(page, "/", group.tenant)}</td>${ages(group)}</tr>`
  )
  const rows = overview.groups.map(
    (group) =>
      html`<tr><td>${page.clean(group.tenant)}</td><td>${page.clean(group.provider)}</td><td>${page.clean(group.account)}</td>${ages(group)}</tr>`
  )
  const heads = html`<th>Pending</th><th>Dead</th>${AGES.map((age) => html`<th>${age.label}</th>`)}<th>Oldest</th>`
  return layout(
    overview.tenant === undefined ? "Backlog" : `Backlog of tenant ${page.clean(overview.tenant)}`,
    "backlog",
    html`${tenantFilter(page, "/", overview.tenant, { window: overview.window })}
<p class="counts"><span class="pending"><b id="pending-count">${overview.counts.pending}</b> pending</span> <span class="failed"><b id="failed-count">${overview.counts.failed}</b> dead letters</span></p>
<section><h2>Pending and dead letters over time</h2>
<p class="note">How many messages were pending, and how many dead letters, at each time (from the journal's own timestamps: each version's ask, confirmation or failure; UTC)${overview.tenant === undefined ? "" : html`, <strong>of every tenant</strong>`}. Window:${windows}</p>
${chart(overview.points)}</section>
<section><h2>By tenant and age</h2>
${
  tenantRows.length === 0
    ? html`<p class="empty">Nothing pending, no dead letters.</p>`
    : html`<table id="tenants"><thead><tr><th>Tenant</th>${heads}</tr></thead><tbody>${tenantRows}</tbody></table>`
}</section>
<section><h2>By tenant, provider, account and age</h2>
${
  rows.length === 0
    ? html`<p class="empty">Nothing pending, no dead letters.</p>`
    : html`<table id="backlog"><thead><tr><th>Tenant</th><th>Provider</th><th>Account</th>${heads}</tr></thead><tbody>${rows}</tbody></table>`
}
${overview.truncated ? html`<p class="note">More than 10,000 of a state: the first 10,000 are shown.</p>` : ""}
</section>`
  )
}

const redriveForm = (page: Page, fields: Readonly<Record<string, string>>, label: string): Html =>
  html`<form method="post" action="/redrive" class="redrive"><input type="hidden" name="token" value="${page.redriveToken}">${Object.entries(
    fields
  ).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`
  )}<button>${label}</button></form>`

/** The dead letters page: each with its reason and a re-drive button, and one for all. */
export const dead = (
  page: Page,
  letters: { readonly entries: ReadonlyArray<Outbox.Entry>; readonly total: number },
  notice: string | undefined,
  tenant?: string | undefined
): Html => {
  const rows = letters.entries.map(
    (entry) =>
      html`<tr><td>${page.clean(entry.tenant ?? "default")}</td><td>${page.clean(entry.provider)}</td><td>${page.clean(entry.account)}</td><td>${messageLink(page, entry)}</td><td class="n">v${entry.latestVersion}</td><td class="n">${entry.failures}</td><td class="reason">${page.clean(entry.lastReason ?? "no reason")}</td><td title="${at(entry.since)}">${ago(entry.since, page.now)} ago</td><td>${redriveForm(page, { tenant: entry.tenant ?? "default", provider: entry.provider, account: entry.account, id: entry.ids.externalMessageId }, "Re-drive")}</td></tr>`
  )
  return layout(
    tenant === undefined ? "Dead letters" : `Dead letters of tenant ${page.clean(tenant)}`,
    "dead",
    html`${notice === undefined ? "" : html`<p class="notice" role="status">${notice}</p>`}
${tenantFilter(page, "/dead", tenant)}
<p class="note">A dead letter failed for good. Re-driving puts its newest text back in the outbox: the app's worker delivers it (nothing is sent from this page).</p>
${
  rows.length === 0
    ? html`<p class="empty">No dead letters.</p>`
    : html`<p>${letters.total} dead letter${letters.total === 1 ? "" : "s"}${letters.total > letters.entries.length ? html`, the first ${letters.entries.length} shown` : ""}. ${redriveForm(page, tenant === undefined ? { all: "1" } : { all: "1", tenant }, tenant === undefined ? "Re-drive all" : "Re-drive all of this tenant")}</p>
<table id="dead"><thead><tr><th>Tenant</th><th>Provider</th><th>Account</th><th>Message</th><th>Version</th><th>Failures</th><th>Reason</th><th>Dead for</th><th></th></tr></thead><tbody>${rows}</tbody></table>`
}`
  )
}

const outcomeClass = (outcome: Outbox.Attempt["outcome"]): string => outcome ?? "inflight"

const eventItem = (page: Page, event: Event): Html => {
  switch (event.kind) {
    case "asked": {
      const version = event.version
      const text =
        version.text === undefined
          ? html`<em>text not kept</em> (${version.textHash})`
          : html`<q>${page.clean(version.text)}</q>`
      return html`<li class="event asked"><time>${at(event.at)}</time> <b>v${version.version} asked</b>${version.source === undefined ? "" : html` by ${page.clean(version.source)}`}: ${text} <span class="status ${version.status}">${version.status}</span></li>`
    }
    case "attempt": {
      const attempt = event.attempt
      const finished = attempt.finishedAt === undefined ? "" : html`, answered ${at(attempt.finishedAt)}`
      return html`<li class="event attempt ${outcomeClass(attempt.outcome)}"><time>${at(event.at)}</time> <b>v${event.version} attempt</b>, claim held by <code>${page.clean(attempt.worker)}</code>${finished}: <span class="outcome">${attempt.outcome ?? "in flight"}</span>${attempt.reason === undefined ? "" : html` <span class="reason">(${page.clean(attempt.reason)})</span>`}</li>`
    }
    case "confirmed":
      return html`<li class="event confirmed"><time>${at(event.at)}</time> <b>v${event.version} confirmed</b> by the provider</li>`
  }
}

const historySection = (page: Page, history: Outbox.History): Html => {
  const ids = history.ids
  const state =
    history.state === "failed"
      ? html`<span class="state failed">dead letter</span> ${redriveForm(page, { tenant: history.tenant ?? "default", provider: history.provider, account: history.account, id: ids.externalMessageId }, "Re-drive")}`
      : html`<span class="state ${history.state}">${history.state}</span>${history.nextAttemptAt === undefined ? "" : html`, next attempt ${at(history.nextAttemptAt)}`}`
  return html`<section class="history"><h2>${history.tenant === undefined ? "" : html`${page.clean(history.tenant)} · `}${page.clean(history.provider)} · ${page.clean(history.account)} · ${page.clean(ids.externalMessageId)}</h2>
<dl><dt>State</dt><dd>${state}</dd><dt>Versions</dt><dd>confirmed v${history.confirmedVersion} of v${history.latestVersion}</dd>
${ids.providerMessageId === undefined ? "" : html`<dt>Provider id</dt><dd>${page.clean(ids.providerMessageId)}</dd>`}
${ids.externalChatId === undefined ? "" : html`<dt>Chat</dt><dd>${page.clean(ids.externalChatId)}</dd>`}
<dt>Since</dt><dd>${at(history.since)} (${ago(history.since, page.now)} ago)</dd>
${history.failures === 0 ? "" : html`<dt>Failed attempts</dt><dd>${history.failures}</dd>`}
${history.lastReason === undefined ? "" : html`<dt>Last reason</dt><dd class="reason">${page.clean(history.lastReason)}</dd>`}</dl>
<ol class="timeline">${eventsOf(history).map((event) => eventItem(page, event))}</ol></section>`
}

/** One message's page: each provider and account's history of that id, as a timeline. */
export const message = (page: Page, id: string, histories: ReadonlyArray<Outbox.History>): Html =>
  layout(
    `Message ${page.clean(id)}`,
    "message",
    histories.length === 0
      ? html`<p class="empty">The outbox has no message with this id (the app's own id, as it recorded the message).</p>`
      : histories.map((history) => historySection(page, history))
  )

/** A page that says what went wrong. */
export const problem = (title: string, message: string): Html =>
  layout(title, "", html`<p class="problem" role="alert">${message}</p>`)
