// One inline style sheet: the page fetches nothing (its CSP allows this sheet by hash and nothing
// else). Colours are variables so dark mode and print only swap the palette.
export const htmlStyles = `
:root {
  color-scheme: light dark;
  --bg: #f7f7f5; --card: #ffffff; --text: #1d1d1f; --muted: #62646a; --line: #e2e2de; --lane: #f1f1ee;
  --critical: #b3261e; --high: #d9600b; --medium: #b58a00; --low: #4f6f8f; --info: #8a8d93;
  --secret: #b3261e; --special: #7b3fb0; --personal: #1f6fbf; --low-cat: #6b7280;
  --window: #d93a2f; --lead-in: #f3b4ae; --ongoing: #8f1d16; --ok: #2e7d32;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #141518; --card: #1d1f23; --text: #e8e8e6; --muted: #a0a3aa; --line: #33363c; --lane: #23262b;
    --critical: #ff6b5f; --high: #ff9d4d; --medium: #e6c04a; --low: #8fb3d9; --info: #9a9da4;
    --secret: #ff6b5f; --special: #c18cf0; --personal: #6fb1f2; --low-cat: #9ca3af;
    --window: #ff5a4e; --lead-in: #7a3b36; --ongoing: #ffb3ab; --ok: #6fcf74;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
}
main { max-width: 1100px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 26px; margin: 0 0 2px; letter-spacing: -0.01em; }
h2 { font-size: 19px; margin: 34px 0 12px; }
h3 { font-size: 16px; margin: 0; overflow-wrap: anywhere; }
.sub { color: var(--muted); margin: 0 0 22px; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.92em; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
.card .label { color: var(--muted); font-size: 13px; }
.card .value { font-size: 28px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card.sev-critical { border-left: 6px solid var(--critical); }
.card.sev-high { border-left: 6px solid var(--high); }
.card.sev-medium { border-left: 6px solid var(--medium); }
.card.sev-low { border-left: 6px solid var(--low); }
.card.sev-info { border-left: 6px solid var(--info); }
section.panel { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; margin: 14px 0; }
.panel-head { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: baseline; margin-bottom: 8px; }
.facts { color: var(--muted); margin: 4px 0 10px; overflow-wrap: anywhere; }
.facts b { color: var(--text); font-weight: 600; }
table + table, table + details, details + table { margin-top: 14px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 10px 6px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12.5px; text-transform: uppercase; letter-spacing: 0.03em; }
td { overflow-wrap: anywhere; }
.nowrap { white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr { break-inside: avoid; }
.badge { display: inline-block; border-radius: 999px; padding: 1px 10px; font-size: 12px; font-weight: 700; text-transform: uppercase; letter-spacing: 0.04em; color: #fff; background: var(--info); }
.badge.sev-critical { background: var(--critical); }
.badge.sev-high { background: var(--high); }
.badge.sev-medium { background: var(--medium); }
.badge.sev-low { background: var(--low); }
.state { font-weight: 700; }
.state-open { color: var(--critical); }
.state-protected, .state-auth-required, .state-done { color: var(--ok); }
.state-overdue { color: var(--critical); }
.chip { display: inline-block; border: 1px solid currentColor; border-radius: 6px; padding: 0 6px; margin: 1px 4px 1px 0; font-size: 12.5px; white-space: nowrap; }
.chip.secret { color: var(--secret); }
.chip.special { color: var(--special); }
.chip.personal { color: var(--personal); }
.chip.low { color: var(--low-cat); }
svg.bars rect.bar-bg { fill: var(--lane); }
svg.bars rect.secret { fill: var(--secret); }
svg.bars rect.special { fill: var(--special); }
svg.bars rect.personal { fill: var(--personal); }
svg.bars rect.low { fill: var(--low-cat); }
svg.timeline { display: block; background: var(--card); border: 1px solid var(--line); border-radius: 10px; font-size: 12px; }
svg.timeline .lane-bg { fill: transparent; }
svg.timeline .lane:nth-child(even) .lane-bg { fill: var(--lane); }
svg.timeline .lane-label { fill: var(--text); font-weight: 600; font-size: 13px; }
svg.timeline .grid { stroke: var(--line); stroke-width: 1; }
svg.timeline .axis { stroke: var(--muted); stroke-width: 1; }
svg.timeline .tick { fill: var(--muted); font-size: 11.5px; }
svg.timeline .window { fill: var(--window); }
svg.timeline .window.ongoing { fill: var(--ongoing); }
svg.timeline .lead-in { fill: var(--lead-in); }
svg.timeline .bar-label { fill: var(--text); font-size: 12px; font-weight: 600; }
svg.timeline .bar-label.inside { fill: #fff; }
svg.timeline .marker { fill: var(--card); stroke: var(--muted); stroke-width: 2; }
svg.timeline .marker-opened { stroke: var(--critical); }
svg.timeline .marker-closed, svg.timeline .marker-contained { stroke: var(--ok); }
svg.timeline .now { stroke: var(--muted); stroke-dasharray: 3 3; }
.legend { color: var(--muted); font-size: 12.5px; margin: 6px 0 0; }
.key { display: inline-block; width: 14px; height: 10px; border-radius: 2px; margin: 0 3px 0 10px; vertical-align: baseline; }
.key-lead-in { background: var(--lead-in); }
.key-window { background: var(--window); }
.key-ongoing { background: var(--ongoing); }
.key-opened, .key-closed, .key-other { width: 10px; border-radius: 50%; border: 2px solid var(--muted); }
.key-opened { border-color: var(--critical); }
.key-closed { border-color: var(--ok); }
details summary { cursor: pointer; color: var(--muted); margin-top: 8px; }
ol.events { padding-left: 18px; margin: 6px 0; }
ol.events li { margin: 2px 0; overflow-wrap: anywhere; }
.note { color: var(--muted); font-size: 13px; }
footer { color: var(--muted); font-size: 12.5px; margin-top: 36px; }
@media print {
  :root { color-scheme: light; --bg: #fff; --card: #fff; --text: #000; --muted: #444; --line: #ccc; --lane: #f3f3f3; }
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  section.panel, .card, svg.timeline { break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  details { display: block; }
}
`;
