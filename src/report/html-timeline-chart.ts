import { html, type SafeHtml } from './html-escape.js';
import { formatDuration } from '../core/duration.js';
import { formatClock, formatDay, formatUtc } from './format-time.js';

export interface TimelineWindow {
  /** The last protected probe before the window: exposure began somewhere after it. */
  openedAfter?: string;
  openedAt: string;
  /** Absent while the store is still open: the bar runs to `now`. */
  closedAt?: string;
}

export interface TimelineMarker {
  at: string;
  /** A CSS-safe word chosen by this code (`opened`, `closed`, `detected`…), never target text. */
  kind: string;
  /** Hover text; may hold target text (escaped). */
  label: string;
}

export interface TimelineLane {
  store: string;
  windows: TimelineWindow[];
  markers: TimelineMarker[];
}

const width = 960;
const laneLabelWidth = 190;
const rightPad = 24;
const laneHeight = 46;
const top = 8;
const axisHeight = 30;
const plotWidth = width - laneLabelWidth - rightPad;
const maxLabel = 26;

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;
const tickSteps = [
  minute,
  5 * minute,
  15 * minute,
  30 * minute,
  hour,
  3 * hour,
  6 * hour,
  12 * hour,
  day,
  2 * day,
  7 * day,
  14 * day,
  30 * day,
  91 * day,
  365 * day,
];

const time = (iso: string | undefined): number | undefined => {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
};

function domainOf(lanes: readonly TimelineLane[], now: number): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  const see = (ms: number | undefined) => {
    if (ms === undefined) return;
    min = Math.min(min, ms);
    max = Math.max(max, ms);
  };
  for (const lane of lanes) {
    for (const w of lane.windows) {
      see(time(w.openedAfter));
      see(time(w.openedAt));
      see(time(w.closedAt) ?? now);
    }
    for (const m of lane.markers) see(time(m.at));
  }
  if (!Number.isFinite(min)) return [now - hour, now];
  // A little air on both sides, so a marker at the very edge stays round and hoverable.
  const span = Math.max(max - min, minute);
  return [min - span * 0.03, max + span * 0.03];
}

function axis(t0: number, t1: number, y: number): SafeHtml {
  const span = t1 - t0;
  const step = tickSteps.find((s) => span / s <= 8) ?? 365 * day;
  const first = Math.ceil(t0 / step) * step;
  const ticks: SafeHtml[] = [];
  const x = (ms: number) => laneLabelWidth + ((ms - t0) / span) * plotWidth;
  let previousDay = '';
  // Bounded: at most ~9 ticks by the choice of step.
  for (let t = first; t <= t1 && ticks.length < 40; t += step) {
    const dayText = formatDay(t);
    const text =
      step >= day ? dayText : dayText === previousDay ? formatClock(t) : `${dayText} ${formatClock(t)}`;
    previousDay = dayText;
    const px = x(t).toFixed(1);
    ticks.push(
      html`<line class="grid" x1="${px}" x2="${px}" y1="${top}" y2="${y}"></line
        ><text class="tick" x="${px}" y="${y + 18}" text-anchor="middle">${text}</text>`,
    );
  }
  return html`<line
      class="axis"
      x1="${laneLabelWidth}"
      x2="${laneLabelWidth + plotWidth}"
      y1="${y}"
      y2="${y}"
    ></line
    >${ticks}`;
}

/**
 * The exposure timeline: one lane per store, a bar per exposure window (the span before the first
 * open probe, when the exposure had already begun for all anyone knows, as a lighter lead-in), and
 * a marker per event. Inline SVG sized by a viewBox, so it scales and prints without script.
 */
export function renderTimelineChart(lanes: readonly TimelineLane[], nowIso: string): SafeHtml {
  const now = time(nowIso) ?? Date.now();
  const [t0, t1] = domainOf(lanes, now);
  const x = (ms: number) => laneLabelWidth + ((ms - t0) / (t1 - t0)) * plotWidth;
  const height = top + lanes.length * laneHeight + axisHeight;
  const axisY = top + lanes.length * laneHeight;

  const laneMarkup = lanes.map((lane, index) => {
    const y = top + index * laneHeight;
    const mid = y + laneHeight / 2;
    // Markers ride above the bars, so an event at a window's edge does not hide the edge.
    const barY = mid + 5;
    const markerY = mid - 11;
    const name = lane.store.length > maxLabel ? `${lane.store.slice(0, maxLabel - 1)}…` : lane.store;
    const bars = lane.windows.map((w) => {
      const opened = time(w.openedAt);
      if (opened === undefined) return '';
      const after = time(w.openedAfter);
      const closed = time(w.closedAt);
      const end = closed ?? now;
      const x0 = x(opened);
      const x1 = Math.max(x(end), x0 + 2);
      const leadIn =
        after === undefined
          ? ''
          : html`<rect
              class="lead-in"
              data-store="${lane.store}"
              x="${x(after).toFixed(1)}"
              y="${barY - 7}"
              width="${Math.max(x0 - x(after), 1).toFixed(1)}"
              height="14"
              rx="2"
              ><title>
                ${`protected at ${formatUtc(w.openedAfter ?? '')}; exposure began after this`}
              </title></rect
            >`;
      const duration = formatDuration(end - opened);
      const hover = `exposed ${formatUtc(w.openedAt)} → ${closed === undefined ? 'still open' : formatUtc(w.closedAt ?? '')} (${duration})`;
      const label = closed === undefined ? `${duration}, still open` : duration;
      // Inside the bar when it fits, else after it, else before it (a bar that ends at the edge).
      const labelWidth = label.length * 7 + 12;
      const place =
        x1 - x0 >= labelWidth
          ? { cls: 'bar-label inside', x: x0 + 6, anchor: 'start' }
          : x1 + labelWidth <= width
            ? { cls: 'bar-label', x: x1 + 5, anchor: 'start' }
            : { cls: 'bar-label', x: (after === undefined ? x0 : Math.min(x0, x(after))) - 5, anchor: 'end' };
      return html`${leadIn}<rect
          class="${closed === undefined ? 'window ongoing' : 'window'}"
          data-store="${lane.store}"
          data-opened-at="${w.openedAt}"
          data-closed-at="${w.closedAt ?? ''}"
          x="${x0.toFixed(1)}"
          y="${barY - 9}"
          width="${(x1 - x0).toFixed(1)}"
          height="18"
          rx="3"
          ><title>${hover}</title></rect
        ><text class="${place.cls}" x="${place.x.toFixed(1)}" y="${barY + 4}" text-anchor="${place.anchor}"
          >${label}</text
        >`;
    });
    const markers = lane.markers.map((m) => {
      const at = time(m.at);
      if (at === undefined) return '';
      return html`<circle
        class="${`marker marker-${m.kind}`}"
        data-kind="${m.kind}"
        cx="${x(at).toFixed(1)}"
        cy="${markerY}"
        r="4"
        ><title>${`${formatUtc(m.at)} ${m.label}`}</title></circle
      >`;
    });
    return html`<g class="lane" data-store="${lane.store}"
      ><rect class="lane-bg" x="0" y="${y}" width="${width}" height="${laneHeight}"></rect
      ><text class="lane-label" x="8" y="${mid + 4}"><title>${lane.store}</title>${name}</text
      >${bars}${markers}</g
    >`;
  });

  const nowX = x(now);
  const nowLine =
    nowX >= laneLabelWidth && nowX <= laneLabelWidth + plotWidth
      ? html`<line
          class="now"
          x1="${nowX.toFixed(1)}"
          x2="${nowX.toFixed(1)}"
          y1="${top}"
          y2="${axisY}"
        ></line>`
      : '';
  return html`<svg
      class="timeline"
      role="img"
      aria-labelledby="timeline-title"
      viewBox="0 0 ${width} ${height}"
      width="100%"
      preserveAspectRatio="xMinYMin meet"
    >
      <title id="timeline-title">Exposure timeline, ${lanes.length} store(s)</title>
      ${axis(t0, t1, axisY)}${laneMarkup}${nowLine}
    </svg>
    <p class="legend">
      <span class="key key-lead-in"></span> protected before, open by the next probe
      <span class="key key-window"></span> exposed (open probes) <span class="key key-ongoing"></span> still
      open <span class="key key-opened"></span> opened <span class="key key-closed"></span> closed
      <span class="key key-other"></span> other event · times in UTC
    </p>`;
}
