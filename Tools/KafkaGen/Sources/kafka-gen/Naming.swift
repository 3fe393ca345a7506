import Foundation

/// Swift names for schema names.

private let swiftKeywords: Set<String> = [
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
    "inout", "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public",
    "rethrows", "static", "struct", "subscript", "typealias", "var", "break", "case", "catch", "continue",
    "default", "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return",
    "throw", "switch", "where", "while", "Any", "as", "await", "false", "is", "nil", "self", "Self",
    "super", "throws", "true", "try",
]

/// PascalCase to lowerCamelCase. A leading run of capitals is an acronym: all of it is
/// lowered, except its last letter when a lowercase letter follows (that letter starts the
/// next word): "ThrottleTimeMs" → "throttleTimeMs", "URL" → "url", "ACLBinding" →
/// "aclBinding".
func lowerCamel(_ s: String) -> String {
    let chars = Array(s)
    var upperRun = 0
    while upperRun < chars.count && chars[upperRun].isUppercase { upperRun += 1 }
    if upperRun == 0 { return s }
    var lowerCount = upperRun
    if upperRun > 1 && upperRun < chars.count && chars[upperRun].isLowercase { lowerCount = upperRun - 1 }
    return String(chars[0 ..< lowerCount]).lowercased() + String(chars[lowerCount...])
}

/// A property name, with a Swift keyword escaped in backticks for declarations.
func swiftFieldName(_ jsonName: String) -> String { lowerCamel(jsonName) }

func escaped(_ name: String) -> String { swiftKeywords.contains(name) ? "`\(name)`" : name }

/// SCREAMING_SNAKE_CASE to lowerCamelCase ("OFFSET_OUT_OF_RANGE" → "offsetOutOfRange").
func camelFromScreaming(_ s: String) -> String {
    let words = s.split(separator: "_").map { $0.lowercased() }
    guard let first = words.first else { return s }
    return first + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
}

/// A Swift string literal.
func stringLiteral(_ s: String) -> String {
    var out = "\""
    for ch in s.unicodeScalars {
        switch ch {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if ch.value < 0x20 { out += "\\u{\(String(ch.value, radix: 16))}" } else { out.unicodeScalars.append(ch) }
        }
    }
    return out + "\""
}

/// Doc-comment lines for an `about` text.
func docLines(_ about: String?, indent: String) -> [String] {
    guard let about, !about.isEmpty else { return [] }
    let oneLine = about.split(whereSeparator: { $0 == "\n" }).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    return ["\(indent)/// \(oneLine)"]
}
