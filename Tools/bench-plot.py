#!/usr/bin/env python3
"""SVG charts of kgo against librdkafka from a --plot CSV of Tools/bench-produce.sh or
Tools/bench-consume.sh (standard library only, so the charts can be redrawn anywhere).

Usage: Tools/bench-plot.py CSV OUTDIR [--caption TEXT]

CSV columns: bench,axis,x,client,rec_per_s,cpu_s,peak_mb,records,secs. Rows with the same
bench, axis, x and client (rounds) become their median. For every bench and axis it writes
OUTDIR/BENCH-AXIS-METRIC.svg for METRIC in rate (records/s), cpu (CPU microseconds per
record: the client's user+sys over the records it moved) and rss (peak resident MB):
line charts with a log x axis for the numeric axes (size, partitions), grouped bars for
codec. The SVGs are self-contained: inline attributes, no scripts, no fonts or links to
fetch, so they render the same from a checkout, GitHub or a browser offline.
"""
import argparse
import csv
import math
import os
import statistics
import sys
from xml.sax.saxutils import escape

# Fixed order and colours, so the same client looks the same on every chart.
CLIENTS = [
    ("kgo", "kgo", "#d9480f", ""),
    ("librdkafka", "librdkafka (idempotent)", "#1c7ed6", ""),
    ("librdkafka-noidem", "librdkafka (no idempotence)", "#5c940d", "6,4"),
]
METRICS = {
    "rate": ("records/s", lambda r: r["rec_per_s"]),
    "cpu": ("CPU µs per record (user+sys)", lambda r: r["cpu_s"] / r["records"] * 1e6),
    "rss": ("peak RSS (MB)", lambda r: r["peak_mb"]),
}
AXES = {
    "size": "record value size (bytes, log scale)",
    "partitions": "partitions (keyed records of 100 B, log scale)",
    "codec": "compression codec (records of 100 B)",
}
# The consume sweeps read partition 0 except the partition sweep, which reads them all.
CONSUME_AXES = {
    "size": "record value size (bytes, partition 0, log scale)",
    "partitions": "partitions (records of 100 B, every partition read, log scale)",
    "codec": "compression codec (records of 100 B, partition 0)",
}
BENCH_TITLES = {"produce": "Produce, acks=all", "consume": "Consume"}
W, H = 760, 460
LEFT, RIGHT, TOP, BOTTOM = 84, 24, 74, 104


def load(path):
    groups = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            key = (row["bench"], row["axis"], row["x"], row["client"])
            groups.setdefault(key, []).append(
                {k: float(row[k]) for k in ("rec_per_s", "cpu_s", "peak_mb", "records")})
    return groups


def median_metric(runs, metric):
    return statistics.median(METRICS[metric][1](r) for r in runs)


def si(v):
    """Short tick label: 1k, 250k, 1.5M; small values keep their decimals."""
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            s = f"{v / div:.1f}".rstrip("0").rstrip(".")
            return s + suffix
    if v == 0 or abs(v) >= 10:
        return f"{v:.0f}"
    if abs(v) >= 1:
        return f"{v:.1f}".rstrip("0").rstrip(".")
    return f"{v:.2g}"


class Scale:
    """Maps data to pixels; log when asked (ticks at powers of ten), else linear from 0."""

    def __init__(self, lo, hi, p0, p1, log):
        self.log, self.p0, self.p1 = log, p0, p1
        if log:
            self.lo = 10 ** math.floor(math.log10(lo))
            self.hi = 10 ** math.ceil(math.log10(hi))
            if self.hi == self.lo:
                self.hi *= 10
        else:
            step = nice_step(hi / 5 if hi > 0 else 1)
            self.lo, self.hi = 0.0, step * math.ceil(hi / step) if hi > 0 else 1.0
            self.step = step

    def __call__(self, v):
        if self.log:
            t = (math.log10(v) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        else:
            t = (v - self.lo) / (self.hi - self.lo)
        return self.p0 + t * (self.p1 - self.p0)

    def ticks(self):
        if self.log:
            e0, e1 = round(math.log10(self.lo)), round(math.log10(self.hi))
            return [10.0 ** e for e in range(e0, e1 + 1)]
        n = int(round(self.hi / self.step))
        return [i * self.step for i in range(n + 1)]


def nice_step(raw):
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def wrap(text, width):
    """Split a caption at '; ' so it fits under the chart."""
    lines, cur = [], ""
    for part in text.split("; "):
        cand = part if not cur else cur + "; " + part
        if len(cand) > width and cur:
            lines.append(cur + ";")
            cur = part
        else:
            cur = cand
    if cur:
        lines.append(cur)
    return lines


def frame(title, xlabel, ylabel, caption, present, bench):
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           f'font-family="DejaVu Sans, Helvetica, Arial, sans-serif">',
           f'<rect x="0" y="0" width="{W}" height="{H}" fill="#ffffff"/>',
           f'<text x="{W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold" fill="#212529">{escape(title)}</text>']
    # Legend: one row under the title, only the clients the chart has.
    x = LEFT
    for name, label, color, dash in CLIENTS:
        if name not in present:
            continue
        if bench == "consume" and name == "librdkafka":
            label = "librdkafka"   # idempotence is a producer setting
        d = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{x}" y1="46" x2="{x + 26}" y2="46" stroke="{color}" stroke-width="3"{d}/>')
        out.append(f'<text x="{x + 32}" y="50" font-size="12" fill="#212529">{escape(label)}</text>')
        x += 44 + 6.5 * len(label)
    bottom = H - BOTTOM
    out.append(f'<text x="{(LEFT + W - RIGHT) / 2}" y="{bottom + 40}" text-anchor="middle" font-size="13" fill="#212529">{escape(xlabel)}</text>')
    out.append(f'<text x="18" y="{(TOP + bottom) / 2}" text-anchor="middle" font-size="13" fill="#212529" '
               f'transform="rotate(-90 18 {(TOP + bottom) / 2})">{escape(ylabel)}</text>')
    for i, line in enumerate(wrap(caption, 118)):
        out.append(f'<text x="{LEFT - 70}" y="{bottom + 66 + 15 * i}" font-size="11" fill="#495057">{escape(line)}</text>')
    return out


def y_axis(out, ys):
    bottom = H - BOTTOM
    for t in ys.ticks():
        py = ys(t)
        out.append(f'<line x1="{LEFT}" y1="{py:.1f}" x2="{W - RIGHT}" y2="{py:.1f}" stroke="#e9ecef" stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 6}" y="{py + 4:.1f}" text-anchor="end" font-size="11" fill="#495057">{si(t)}</text>')
    out.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#495057"/>')
    out.append(f'<line x1="{LEFT}" y1="{bottom}" x2="{W - RIGHT}" y2="{bottom}" stroke="#495057"/>')


def y_scale(values):
    lo, hi = min(values), max(values)
    # Log when the values span more than 20x (record sizes move records/s by 1000x).
    log = lo > 0 and hi / lo > 20
    return Scale(lo, hi, H - BOTTOM, TOP, log)


def line_chart(series, bench, title, xlabel, ylabel, caption):
    """series: {client: [(x, y)]} with numeric x; log x axis."""
    xs_all = sorted({x for pts in series.values() for x, _ in pts})
    ys_all = [y for pts in series.values() for _, y in pts]
    xs = Scale(min(xs_all), max(xs_all), LEFT + 20, W - RIGHT - 20, True)
    xs.lo, xs.hi = min(xs_all), max(xs_all)   # the measured points span the whole width
    if xs.lo == xs.hi:
        xs.hi = xs.lo * 10
    ys = y_scale(ys_all)
    out = frame(title, xlabel, ylabel + (" (log scale)" if ys.log else ""), caption, series, bench)
    y_axis(out, ys)
    bottom = H - BOTTOM
    for x in xs_all:
        px = xs(x)
        out.append(f'<line x1="{px:.1f}" y1="{bottom}" x2="{px:.1f}" y2="{bottom + 5}" stroke="#495057"/>')
        out.append(f'<text x="{px:.1f}" y="{bottom + 19}" text-anchor="middle" font-size="11" fill="#495057">{si(x)}</text>')
    for name, _, color, dash in CLIENTS:
        pts = sorted(series.get(name, []))
        if not pts:
            continue
        d = f' stroke-dasharray="{dash}"' if dash else ""
        path = " ".join(f"{xs(x):.1f},{ys(y):.1f}" for x, y in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2.5"{d}/>')
        for x, y in pts:
            out.append(f'<circle cx="{xs(x):.1f}" cy="{ys(y):.1f}" r="3.5" fill="{color}"><title>{escape(name)} {si(x)}: {si(y)}</title></circle>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def bar_chart(series, categories, bench, title, xlabel, ylabel, caption):
    """series: {client: {category: y}}; one group of bars per category, linear y from 0."""
    ys = Scale(0, max(v for c in series.values() for v in c.values()), H - BOTTOM, TOP, False)
    out = frame(title, xlabel, ylabel, caption, series, bench)
    y_axis(out, ys)
    bottom = H - BOTTOM
    clients = [c for c in CLIENTS if c[0] in series]
    group_w = (W - RIGHT - LEFT) / len(categories)
    bar_w = group_w * 0.8 / len(clients)
    for i, cat in enumerate(categories):
        gx = LEFT + i * group_w + group_w * 0.1
        out.append(f'<text x="{LEFT + (i + 0.5) * group_w:.1f}" y="{bottom + 19}" text-anchor="middle" font-size="12" fill="#495057">{escape(cat)}</text>')
        for j, (name, _, color, dash) in enumerate(clients):
            v = series[name].get(cat)
            if v is None:
                continue
            py = ys(v)
            style = f' fill-opacity="0.55" stroke="{color}" stroke-dasharray="{dash}"' if dash else ""
            out.append(f'<rect x="{gx + j * bar_w:.1f}" y="{py:.1f}" width="{bar_w - 2:.1f}" height="{bottom - py:.1f}" fill="{color}"{style}>'
                       f'<title>{escape(name)} {escape(cat)}: {si(v)}</title></rect>')
            out.append(f'<text x="{gx + (j + 0.5) * bar_w - 1:.1f}" y="{py - 4:.1f}" text-anchor="middle" font-size="9" fill="#212529">{si(v)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def axis_label(bench, axis):
    labels = CONSUME_AXES if bench == "consume" else AXES
    return labels.get(axis, axis)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv")
    ap.add_argument("outdir")
    ap.add_argument("--caption", default="")
    a = ap.parse_args()
    groups = load(a.csv)
    os.makedirs(a.outdir, exist_ok=True)
    written = []
    for bench, axis in sorted({(k[0], k[1]) for k in groups}):
        keys = [k for k in groups if k[0] == bench and k[1] == axis]
        for metric, (ylabel, _) in METRICS.items():
            title = f"{BENCH_TITLES.get(bench, bench)}: {ylabel.split(' (')[0]} by {axis}"
            path = os.path.join(a.outdir, f"{bench}-{axis}-{metric}.svg")
            if axis == "codec":
                cats = []
                for k in keys:   # the CSV's order: the order the script ran the codecs
                    if k[2] not in cats:
                        cats.append(k[2])
                series = {}
                for k in keys:
                    series.setdefault(k[3], {})[k[2]] = median_metric(groups[k], metric)
                svg = bar_chart(series, cats, bench, title, axis_label(bench, axis), ylabel, a.caption)
            else:
                series = {}
                for k in keys:
                    series.setdefault(k[3], []).append((float(k[2]), median_metric(groups[k], metric)))
                svg = line_chart(series, bench, title, axis_label(bench, axis), ylabel, a.caption)
            with open(path, "w", encoding="utf-8") as f:
                f.write(svg)
            written.append(path)
    for p in written:
        print(p)
    if not written:
        sys.exit("bench-plot: no rows in " + a.csv)


if __name__ == "__main__":
    main()
