import ArgumentParser
import Foundation
import KafkaIO

/// How the admin verbs print: text lines or one JSON document, and a non-zero exit when any
/// item failed (each failure printed with the item's name on standard error).
struct AdminOutput: ParsableArguments {
    @Flag(name: .customLong("json"), help: "Print JSON instead of text.")
    var json = false

    /// Prints each result, then fails the command if any item failed.
    func report<V>(_ results: [AdminResult<V>], text: (String, V) -> String?, object: (V) -> [String: Any]) throws {
        var failed = 0
        var items: [[String: Any]] = []
        for r in results {
            switch r.result {
            case .success(let v):
                if json { items.append(["name": r.name].merging(object(v)) { a, _ in a }) } else if let line = text(r.name, v) { print(line) }
            case .failure(let e):
                failed += 1
                if json { items.append(["name": r.name, "error": "\(e)"]) }
                printError("\(r.name): \(e)")
            }
        }
        if json { try printJSON(items) }
        if failed > 0 { throw ExitCode(1) }
    }

    func printJSON(_ value: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data("error: \(line)\n".utf8))
}

/// `k=v` arguments as a dictionary; a repeated key or a missing `=` is a usage error.
func keyValues(_ pairs: [String]) throws -> [String: String] {
    var out: [String: String] = [:]
    for p in pairs {
        guard let eq = p.firstIndex(of: "="), eq != p.startIndex else { throw ValidationError("\(p): expected KEY=VALUE") }
        let k = String(p[..<eq])
        guard out[k] == nil else { throw ValidationError("\(k) given twice") }
        out[k] = String(p[p.index(after: eq)...])
    }
    return out
}
