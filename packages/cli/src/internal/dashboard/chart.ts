/**
 * The backlog chart: an inline SVG of two lines (pending, dead letters) over
 * the window, drawn with presentation attributes only (the page's policy
 * allows no inline style and no script).
 */
import { type Html, html } from "./html.ts"
import type { Point } from "./model.ts"

const WIDTH = 720
const HEIGHT = 220
const LEFT = 48
const RIGHT = 12
const TOP = 12
const BOTTOM = 28

const time = (at: number, span: number): string => {
  const iso = new Date(at).toISOString()
  return span > 86_400_000 ? iso.slice(5, 10) : iso.slice(11, 16)
}

const line = (
  points: ReadonlyArray<Point>,
  value: (point: Point) => number,
  x: (at: number) => number,
  y: (n: number) => number
) => points.map((point) => `${x(point.at).toFixed(1)},${y(value(point)).toFixed(1)}`).join(" ")

/** The chart of pending edits and dead letters over the points' span (times in UTC). */
export const chart = (points: ReadonlyArray<Point>): Html => {
  const first = points[0]?.at ?? 0
  const last = points[points.length - 1]?.at ?? 1
  const span = Math.max(1, last - first)
  const top = Math.max(1, ...points.map((point) => Math.max(point.pending, point.failed)))
  const x = (at: number) => LEFT + ((at - first) / span) * (WIDTH - LEFT - RIGHT)
  const y = (n: number) => TOP + (1 - n / top) * (HEIGHT - TOP - BOTTOM)
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((fraction) => first + fraction * span)
  const anchors = ["start", "middle", "middle", "middle", "end"]
  const axis = ticks.map(
    (at, index) =>
      html`<text x="${x(at).toFixed(1)}" y="${HEIGHT - 8}" text-anchor="${anchors[index] ?? "middle"}" font-size="11" fill="#555">${time(at, span)}</text>`
  )
  const lastPoint = points[points.length - 1]
  return html`<svg class="chart" role="img" aria-labelledby="chart-title" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" xmlns="http://www.w3.org/2000/svg">
<title id="chart-title">Pending edits and dead letters over time (UTC)</title>
<rect x="${LEFT}" y="${TOP}" width="${WIDTH - LEFT - RIGHT}" height="${HEIGHT - TOP - BOTTOM}" fill="#fafafa" stroke="#ddd"/>
<text x="${LEFT - 6}" y="${TOP + 10}" text-anchor="end" font-size="11" fill="#555">${top}</text>
<text x="${LEFT - 6}" y="${HEIGHT - BOTTOM}" text-anchor="end" font-size="11" fill="#555">0</text>
${axis}
<polyline data-series="pending" fill="none" stroke="#1f6feb" stroke-width="2" points="${line(points, (p) => p.pending, x, y)}"/>
<polyline data-series="failed" fill="none" stroke="#cf222e" stroke-width="2" points="${line(points, (p) => p.failed, x, y)}"/>
</svg>
<p class="legend"><span class="key pending"></span> pending (${lastPoint?.pending ?? 0} now) <span class="key failed"></span> dead letters (${lastPoint?.failed ?? 0} now)</p>`
}
