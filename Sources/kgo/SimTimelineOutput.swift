import Foundation
import KafkaProtocol
import KafkaSimulation
import KafkaStateMachines

/// `--timeline`: a run drawn as one self-contained HTML page (KafkaSimulation's SimTimeline
/// and TimelineHTML).
enum TimelineOutput {
    /// Fills a new timeline with `body` (which runs the simulation again with it set) and
    /// writes the page to `path`.
    static func write(_ path: String, title: String, _ body: (SimTimeline) -> Void) throws {
        let t = SimTimeline(title: title)
        body(t)
        do { try TimelineHTML.render(t).write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw KgoFailure("cannot write the timeline to \(path): \(error)")
        }
        print("timeline: \(path)")
    }

    /// Where a sweep's failing seed's page goes.
    static func path(dir: String, file: String, seed: UInt64) -> String {
        let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        return URL(fileURLWithPath: dir).appendingPathComponent("\(name)-\(seed).html").path
    }

    static func makeDirectory(_ dir: String) throws {
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw KgoFailure("cannot create \(dir): \(error)")
        }
    }

    /// A flight recording's connections and requests: the engine's actions as it replays,
    /// merged in time order with the recorded inputs (an input comes before the actions it
    /// caused at the same instant).
    static func recording(_ recording: FlightRecording, into t: SimTimeline) throws {
        var actions: [(Instant, Action)] = []
        _ = try RecordingReplay.run(recording) { a, now in
            switch a {
            case .open, .write, .close: actions.append((now, a))
            default: break
            }
        }
        let origin = recording.entries.first?.now.nanoseconds ?? 0
        func at(_ i: Instant) -> UInt64 { i.nanoseconds >= origin ? i.nanoseconds - origin : 0 }
        var hosts: [UInt64: String] = [:]
        var next = 0
        func flushActions(upTo limit: Instant?) {
            while next < actions.count, limit.map({ actions[next].0 < $0 }) ?? true {
                let (now, a) = actions[next]
                next += 1
                switch a {
                case .open(let c, _, let host, let port, _): hosts[c.rawValue] = "\(host):\(port)"
                case .write(let c, let frame):
                    let bytes = frame.bytes
                    t.wrote(bytes, link: c.rawValue, client: "engine", broker: hosts[c.rawValue] ?? "?", cluster: nil, at: at(now))
                case .close(let c): t.disconnected(link: c.rawValue, at: at(now))
                default: break
                }
            }
        }
        for e in recording.entries {
            flushActions(upTo: e.now)
            guard case .input(let input) = e.payload else { continue }
            switch input {
            case .connectionOpened(let c): t.connected(link: c.rawValue, client: "engine", broker: hosts[c.rawValue] ?? "?", at: at(e.now))
            case .connectionFailed(let c, let why): t.mark(t.lane(.connections, "engine - \(hosts[c.rawValue] ?? "?")"), at: at(e.now), "connection failed: \(why)", kind: .lost)
            case .connectionClosed(let c): t.disconnected(link: c.rawValue, at: at(e.now))
            case .bytesReceived(let c, let bytes): t.read(bytes, link: c.rawValue, at: at(e.now))
            default: break
            }
        }
        flushActions(upTo: nil)
        t.close(at: recording.entries.last.map { at($0.now) } ?? 0)
    }
}
