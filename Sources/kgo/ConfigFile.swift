import Foundation

/// kgo's config file: `key=value` lines of client settings (ClientSettings' names, as
/// librdkafka's properties files and kcat's -F), `#` comments and blank lines ignored.
/// Which file: `-F FILE`, else `$KGO_CONFIG`, else `~/.config/kgo.conf` if it exists. A file
/// named explicitly must exist; the default one is optional.
enum ConfigFile {
    /// The path to read, or nil when none is named and the default does not exist.
    static func path(explicit: String?, environment: [String: String]) -> (path: String, required: Bool)? {
        if let explicit { return (explicit, true) }
        if let env = environment["KGO_CONFIG"], !env.isEmpty { return (env, true) }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        let path = home + "/.config/kgo.conf"
        return FileManager.default.fileExists(atPath: path) ? (path, false) : nil
    }

    /// The file's settings; a line that is not a known key=value is a failure naming FILE:LINE.
    static func load(explicit: String?, environment: [String: String]) throws -> ClientSettings {
        var settings = ClientSettings()
        guard let (path, _) = path(explicit: explicit, environment: environment) else { return settings }
        guard let data = FileManager.default.contents(atPath: path) else { throw KgoFailure("cannot read config file \(path)") }
        for (i, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = String(line).trimmingSpaces
            if text.isEmpty || text.hasPrefix("#") { continue }
            do { try settings.add(text) } catch { throw KgoFailure("\(path):\(i + 1): \(error)") }
        }
        return settings
    }
}
