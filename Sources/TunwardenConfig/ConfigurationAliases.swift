import CYaml

/// Refusing YAML anchors (`&name`) and aliases (`*name`) in a configuration file.
extension Configuration {
    /// Throws, naming the line, when `text` holds an anchor or an alias; a file without either is
    /// let through, and YAML that cannot be read is left for the composer to describe.
    ///
    /// No setting needs an alias, and aliases are dangerous: an alias of an alias of … names a tree
    /// that grows tenfold with each level, and composing a mapping whose key is such an alias
    /// (Yams hashes every key to find duplicates) takes time exponential in the file's length, so
    /// that a file of a few hundred bytes would stall every command, and a watcher's reload, for
    /// hours. This check reads the file's tokens once, in time linear in its length, before
    /// anything is composed.
    static func refuseAnchorsAndAliases(_ text: String, path: String) throws {
        var bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return }
        defer { yaml_parser_delete(&parser) }
        let found: (kind: String, line: Int)? = bytes.withUnsafeMutableBufferPointer { buffer in
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            while true {
                var token = yaml_token_t()
                // A syntax error: the composer reads the file again and names it.
                guard yaml_parser_scan(&parser, &token) == 1 else { return nil }
                defer { yaml_token_delete(&token) }
                switch token.type {
                case YAML_STREAM_END_TOKEN: return nil
                case YAML_ANCHOR_TOKEN: return ("an anchor (&)", Int(token.start_mark.line) + 1)
                case YAML_ALIAS_TOKEN: return ("an alias (*)", Int(token.start_mark.line) + 1)
                default: continue
                }
            }
        }
        if let found {
            throw ConfigError(path: path, line: found.line, key: nil,
                              problem: "\(found.kind) is not allowed in tunwarden's configuration: no setting needs one; write the value out in full")
        }
    }
}
