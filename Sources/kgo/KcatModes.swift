import ArgumentParser
import Foundation

/// kcat's way of choosing what to do: a mode flag anywhere on the line (`-C` consume, `-P`
/// produce, `-L` metadata) instead of a verb first, `-V` for the version, and `-X list` for
/// the settings. Rewritten into kgo's verbs before parsing, so each verb keeps one set of options.
enum KcatModes {
    static let modes = ["-C": "consume", "-P": "produce", "-L": "metadata"]

    enum Rewritten: Equatable {
        case arguments([String])
        /// `-X list`: print the settings and exit 0.
        case listSettings
        case usageError(String)
    }

    /// `arguments` without the program name. A line that starts with a verb is left alone
    /// (its own options decide), except for `-X list`.
    static func rewrite(_ arguments: [String], verbs: Set<String>) -> Rewritten {
        if zip(arguments, arguments.dropFirst()).contains(where: { $0 == "-X" && $1 == "list" }) { return .listSettings }
        if let first = arguments.first, verbs.contains(first) { return .arguments(arguments) }
        if arguments == ["-V"] { return .arguments(["--version"]) }
        let given = arguments.filter { modes[$0] != nil }
        guard let mode = given.first else { return .arguments(arguments) }
        guard Set(given).count == 1 else { return .usageError("-C, -P and -L are exclusive: give one") }
        return .arguments([modes[mode]!] + arguments.filter { $0 != mode })
    }
}
