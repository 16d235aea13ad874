/**
 * Number formatting and Markdown tables.
 */

/** A count with thousands separators: 10,000. */
export const count = (value: number): string => Math.round(value).toLocaleString("en-US")

/** Milliseconds with three decimals: 0.412 ms. */
export const ms = (value: number, decimals = 3): string => `${value.toFixed(decimals)} ms`

/** A ratio: 1.04x. */
export const ratio = (value: number): string => `${value.toFixed(2)}x`

/** A share: 97.5%. */
export const percent = (value: number): string => `${(value * 100).toFixed(1)}%`

/** Mebibytes: 84.2 MB. */
export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`

/** A rate: 1,234 msg/s. */
export const perSecond = (value: number, unit = "msg/s"): string => `${count(value)} ${unit}`

/** Seconds: 10.24 s. */
export const seconds = (value: number): string => `${value.toFixed(2)} s`

export type Cell = string | number

/** A table as data: it goes to the JSON as it is and to the Markdown rendered. */
export interface Table {
  readonly title?: string | undefined
  readonly columns: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<Cell>>
}

const escapeCell = (cell: Cell): string => String(cell).replaceAll("|", "\\|").replaceAll("\n", " ")

/** A GitHub-flavoured Markdown table; numeric-looking columns are right-aligned. */
export const markdownTable = (table: Table): string => {
  const numeric = table.columns.map((_, column) =>
    table.rows.every((row) => {
      const cell = row[column]
      return typeof cell === "number" || (typeof cell === "string" && /^[-+]?[\d,.]+\s*[a-zA-Zµ%/]*$/.test(cell))
    })
  )
  const header = `| ${table.columns.map(escapeCell).join(" | ")} |`
  const rule = `| ${table.columns.map((_, column) => (numeric[column] ? "---:" : "---")).join(" | ")} |`
  const body = table.rows.map(
    (row) => `| ${table.columns.map((_, column) => escapeCell(row[column] ?? "")).join(" | ")} |`
  )
  return [header, rule, ...body].join("\n")
}
