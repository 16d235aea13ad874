/** The dashboard's stylesheet, served as `/style.css` (the page's policy allows no inline style). */
export const css = `
:root { font-family: system-ui, sans-serif; color: #1f2328; background: #fff; }
body { margin: 0; }
header { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.2rem; background: #24292f; color: #fff; }
header nav { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
header a { color: #fff; }
header a[aria-current="page"] { font-weight: bold; text-decoration: none; }
header .find input { width: 14rem; }
form.filter { margin: 0 0 1rem; } form.filter input { width: 14rem; }
main { padding: 0 1.2rem 2rem; max-width: 72rem; }
h1 { font-size: 1.4rem; overflow-wrap: anywhere; }
h2 { font-size: 1.1rem; overflow-wrap: anywhere; }
table { border-collapse: collapse; }
th, td { border-bottom: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.reason, dd.reason, .reason { overflow-wrap: anywhere; max-width: 28rem; }
.counts span { margin-right: 1.5rem; font-size: 1.1rem; }
.counts .pending b { color: #1f6feb; }
.counts .failed b { color: #cf222e; }
.note, .empty { color: #57606a; }
.notice { background: #dafbe1; padding: .5rem .8rem; }
.problem { background: #ffebe9; padding: .5rem .8rem; }
.legend .key { display: inline-block; width: 1rem; height: .25rem; vertical-align: middle; margin-left: .8rem; }
.legend .key.pending { background: #1f6feb; }
.legend .key.failed { background: #cf222e; }
form.redrive { display: inline; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { color: #57606a; }
dd { margin: 0; }
ol.timeline { list-style: none; border-left: 3px solid #d0d7de; margin-left: .5rem; padding-left: 1rem; }
ol.timeline li { margin: .5rem 0; position: relative; overflow-wrap: anywhere; }
ol.timeline li::before { content: ""; position: absolute; left: -1.45rem; top: .35rem; width: .6rem; height: .6rem; border-radius: 50%; background: #8c959f; }
ol.timeline li.confirmed::before { background: #1a7f37; }
ol.timeline li.permanent::before, ol.timeline li.abandoned::before { background: #cf222e; }
ol.timeline li.retryable::before, ol.timeline li.unknown::before { background: #bf8700; }
ol.timeline li.asked::before { background: #1f6feb; }
time { font-variant-numeric: tabular-nums; color: #57606a; }
.status, .state, .outcome { padding: 0 .35rem; border-radius: .3rem; background: #eaeef2; }
.status.confirmed, .outcome { background: #eaeef2; }
.state.failed, .status.failed { background: #ffebe9; }
.state.pending, .status.pending { background: #ddf4ff; }
`
