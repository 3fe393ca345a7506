/// Draws a `SimTimeline` as one self-contained HTML page: inline SVG on the run's virtual time
/// axis, no script and nothing fetched, so it opens anywhere (a CI artifact, a mail). Each
/// span and mark has a tooltip (`<title>`) with its label and times.
package enum TimelineHTML {
    static let labelWidth = 260.0
    static let plotWidth = 1400.0
    static let laneHeight = 18.0
    static let sectionGap = 24.0
    static let top = 70.0

    /// Leaders are coloured by broker id.
    static let tones = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#edc948", "#76b7b2", "#ff9da7", "#9c755f"]

    static func colour(_ kind: SimTimeline.Kind, tone: Int) -> String {
        switch kind {
        case .leader: tones[((tone % tones.count) + tones.count) % tones.count]
        case .offline: "#5d0000"
        case .down: "#c0392b"
        case .isolated: "#e67e22"
        case .connection: "#b0bec5"
        case .request: "#78909c"
        case .produce: "#1f77b4"
        case .fetch: "#2ca02c"
        case .lost: "#d62728"
        case .member: "#cfd8dc"
        case .generation: "#8e44ad"
        case .revoke: "#f39c12"
        case .fault: "#e74c3c"
        }
    }

    package static func render(_ t: SimTimeline) -> String {
        let order = laneOrder(t)
        var y: [Int: Double] = [:]
        var headers: [(Double, String)] = []
        var cursor = top
        var section: SimTimeline.Section?
        for i in order {
            if t.lanes[i].section != section {
                section = t.lanes[i].section
                cursor += sectionGap
                headers.append((cursor - 6, section!.title))
            }
            y[i] = cursor
            cursor += laneHeight
        }
        let height = cursor + 30
        let width = labelWidth + plotWidth + 40
        let end = max(t.end, 1)
        func x(_ at: UInt64) -> Double { labelWidth + Double(at) / Double(end) * plotWidth }

        var svg = ""
        svg.reserveCapacity(t.spans.count * 120 + t.marks.count * 120 + 4096)
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        // Time axis with round ticks.
        let step = tickStep(end)
        var tick: UInt64 = 0
        while tick <= end {
            let tx = fmt(x(tick))
            svg += "<line x1=\"\(tx)\" y1=\"\(fmt(top - 8))\" x2=\"\(tx)\" y2=\"\(fmt(height - 20))\" stroke=\"#eceff1\"/>"
            svg += "<text x=\"\(tx)\" y=\"\(fmt(top - 12))\" text-anchor=\"middle\" fill=\"#546e7a\">\(seconds(tick))</text>\n"
            tick += step
        }
        for (hy, title) in headers {
            svg += "<text x=\"4\" y=\"\(fmt(hy))\" font-weight=\"bold\" fill=\"#263238\">\(escape(title))</text>\n"
        }
        for i in order {
            let lane = t.lanes[i]
            var label = lane.name
            if lane.dropped > 0 { label += " (+\(lane.dropped) not drawn)" }
            svg += "<text x=\"12\" y=\"\(fmt(y[i]! + laneHeight - 5))\" fill=\"#37474f\">\(escape(label))</text>"
            svg += "<line x1=\"\(fmt(labelWidth))\" y1=\"\(fmt(y[i]! + laneHeight))\" x2=\"\(fmt(labelWidth + plotWidth))\" y2=\"\(fmt(y[i]! + laneHeight))\" stroke=\"#f5f5f5\"/>\n"
        }
        // Faults: a faint line across every lane, so what they caused lines up under them.
        for m in t.marks where m.kind == .fault {
            let mx = fmt(x(m.at))
            svg += "<line x1=\"\(mx)\" y1=\"\(fmt(top))\" x2=\"\(mx)\" y2=\"\(fmt(height - 20))\" stroke=\"#e74c3c\" stroke-opacity=\"0.25\"/>\n"
        }
        for s in t.spans {
            guard let ly = y[s.lane] else { continue }
            let x0 = x(s.start), x1 = x(s.end ?? t.end)
            let inset = s.kind == .connection || s.kind == .member ? 5.0 : 2.0
            svg += "<rect x=\"\(fmt(x0))\" y=\"\(fmt(ly + inset))\" width=\"\(fmt(max(1, x1 - x0)))\" height=\"\(fmt(laneHeight - 2 * inset))\" fill=\"\(colour(s.kind, tone: s.tone))\">"
            svg += "<title>\(escape(s.label)): \(seconds(s.start)) - \(seconds(s.end ?? t.end))</title></rect>\n"
            if s.kind == .leader || s.kind == .offline || s.kind == .down || s.kind == .isolated, x1 - x0 > 70 {
                svg += "<text x=\"\(fmt(x0 + 3))\" y=\"\(fmt(ly + laneHeight - 5))\" fill=\"#ffffff\" pointer-events=\"none\">\(escape(s.label))</text>\n"
            }
        }
        for m in t.marks {
            guard let ly = y[m.lane] else { continue }
            let mx = x(m.at)
            let c = colour(m.kind, tone: 0)
            svg += "<path d=\"M\(fmt(mx)) \(fmt(ly + 2)) l4 7 l-4 7 l-4 -7 z\" fill=\"\(c)\"><title>\(escape(m.label)) at \(seconds(m.at))</title></path>\n"
        }
        if let v = t.violation {
            let vx = fmt(x(v.at))
            svg += "<line x1=\"\(vx)\" y1=\"\(fmt(top - 30))\" x2=\"\(vx)\" y2=\"\(fmt(height - 20))\" stroke=\"#d50000\" stroke-width=\"2\"><title>\(escape(v.text))</title></line>"
            svg += "<text x=\"\(vx)\" y=\"\(fmt(top - 32))\" fill=\"#d50000\" font-weight=\"bold\" text-anchor=\"\(x(v.at) > labelWidth + plotWidth / 2 ? "end" : "start")\">first violation: \(escape(String(v.text.prefix(140))))</text>\n"
        }
        svg += "</svg>\n"

        var html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>\(escape(t.title))</title>\n"
        html += "<style>body{font-family:sans-serif;margin:12px;background:#ffffff;color:#263238}.k{display:inline-block;width:12px;height:10px;margin:0 4px 0 12px}</style></head><body>\n"
        html += "<h3>\(escape(t.title))</h3>\n<p>virtual time 0 - \(seconds(t.end)); hover a span or a mark for its details."
        if let v = t.violation { html += " <b style=\"color:#d50000\">First violation at \(seconds(v.at)):</b> \(escape(v.text))" }
        html += "</p>\n<p>"
        let legend: [(SimTimeline.Kind, String)] = [(.down, "broker down"), (.isolated, "broker cut off"), (.leader, "leader (colour: broker)"),
                                                   (.offline, "no leader"), (.produce, "produce -> ack"), (.fetch, "fetch"), (.request, "request"),
                                                   (.lost, "request unanswered"), (.connection, "connection"), (.generation, "generation joined"),
                                                   (.revoke, "revoked / lost"), (.fault, "fault")]
        for (k, name) in legend { html += "<span class=\"k\" style=\"background:\(colour(k, tone: 1))\"></span>\(name)" }
        html += "</p>\n" + svg + "</body></html>\n"
        return html
    }

    /// Sections in order; partition lanes by topic, partition number, then leader, produce, fetch.
    static func laneOrder(_ t: SimTimeline) -> [Int] {
        func rank(_ name: String) -> (String, Int, Int) {
            let parts = name.split(separator: " ")
            let tp = parts.first.map(String.init) ?? name
            let slash = tp.lastIndex(of: "/")
            let topic = slash.map { String(tp[..<$0]) } ?? tp
            let partition = slash.flatMap { Int(tp[tp.index(after: $0)...]) } ?? 0
            let kind = ["leader": 0, "produce": 1, "fetch": 2][parts.last.map(String.init) ?? ""] ?? 3
            return (topic, partition, kind)
        }
        return t.lanes.indices.sorted { a, b in
            let la = t.lanes[a], lb = t.lanes[b]
            if la.section != lb.section { return la.section.rawValue < lb.section.rawValue }
            if la.section == .partitions {
                let ra = rank(la.name), rb = rank(lb.name)
                if ra != rb { return ra < rb }
            } else if la.name != lb.name {
                return naturalOrder(la.name, lb.name)
            }
            return a < b
        }
    }

    /// "member 2 - broker 10" before "member 10 - broker 1": digit runs compare as numbers.
    static func naturalOrder(_ a: String, _ b: String) -> Bool {
        func pieces(_ s: String) -> [(String, Int?)] {
            var out: [(String, Int?)] = []
            var run = ""
            var digits = false
            for c in s {
                let d = c.isASCII && c.isNumber
                if !run.isEmpty && d != digits {
                    out.append((run, digits ? Int(run) : nil))
                    run = ""
                }
                digits = d
                run.append(c)
            }
            if !run.isEmpty { out.append((run, digits ? Int(run) : nil)) }
            return out
        }
        let pa = pieces(a), pb = pieces(b)
        for (x, y) in zip(pa, pb) {
            if let nx = x.1, let ny = y.1, nx != ny { return nx < ny }
            if x.0 != y.0 { return x.0 < y.0 }
        }
        return pa.count < pb.count
    }

    /// A round tick spacing giving about ten ticks.
    static func tickStep(_ end: UInt64) -> UInt64 {
        var step: UInt64 = 1_000_000   // 1 ms
        while end / step > 12 {
            let next = [step * 2, step * 5, step * 10].first { end / $0 <= 12 }
            step = next ?? step * 10
        }
        return step
    }

    static func seconds(_ ns: UInt64) -> String {
        let ms = ns / 1_000_000
        guard ms % 1000 != 0 else { return "\(ms / 1000) s" }
        var fraction = String(String(1000 + ms % 1000).dropFirst())
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(ms / 1000).\(fraction) s"
    }

    static func fmt(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
