import Foundation
import TunwardenCore

/// What people put into a paste and what it says of the listings in it: marks where output was
/// left out, notes added by hand, the markup a forum wraps around it.
extension Section {
    /// Words that say output was left out (`-- snip --`, `(output trimmed)`, `--- abridged ---`),
    /// or goes on where the paste does not show it (Gmail's `[Message clipped]`, `(continued in
    /// next comment)`, `-- output continues --`).
    static let elisionWords: Set<String> = ["snip", "snipped", "trimmed", "truncated", "omitted", "elided", "abridged", "shortened", "gekürzt",
                                            "clipped", "continued", "continues"]

    /// Phrases of Chinese and Japanese that say the rest was left out or is the same.
    static let cjkElisions = ["以下略", "省略", "后略", "後略", "中略", "下略", "(略", "（略", "略)", "略）", "りゃく", "以下同様", "以下同样",
                              "以下相同", "等等", "剩下的", "其余", "其餘", "이하 동일", "이하동일"]

    /// Whether the line starting at `position` holds nothing but interface names.
    static func namesOnlyLine(_ text: CaptureText, _ position: Int, limit: Int) -> Bool {
        guard text.startsLine(position) else { return false }
        var at = position
        while at < limit, text.line(at) == text.line(position) {
            guard ShellCommand.isInterfaceName(text[at]) else { return false }
            at += 1
        }
        return true
    }

    /// Whether the line at `position` is a prompt with nothing typed after it (`[user@host ~]$`,
    /// `(base) user@host ~ %`, oh-my-zsh's `➜  ~ ` and `➜  vpn git:(main) ✗ `, whose arrow comes
    /// before the directory): the shell came back, so the command before it ran to its end.
    func isBarePrompt(_ position: Int) -> Bool {
        guard text.startsLine(position) else { return false }
        var end = position
        while end < range.upperBound, text.line(end) == text.line(position) { end += 1 }
        return end - position <= 5 && (ShellCommand.isPrompt(text[end - 1]) || ShellCommand.arrowThemeEnd(in: text, at: position) == end)
    }

    /// Whether the line at `position` is a note put into a listing by hand: it starts with a
    /// bracket (`(removed 12 idle utuns)`, `[40 more utun interfaces]`, `<cut>`), or is a cut
    /// mark (`---8<---`, `✂`). No line of ifconfig output starts so.
    func isHandMark(_ position: Int) -> Bool {
        guard text.startsLine(position), let lead = text[position].first else { return false }
        // A line that says something was taken out, however it is set (`# removed utun1-utun9`,
        // `<!-- 9 more utun blocks cut -->`, `*(utun1 to utun9 removed)*`).
        // It must say what: interfaces, blocks or lines (prose such as "the VPN cut out at 10:00"
        // or "I redacted my MAC address" removes nothing from the listing).
        var end = position
        while end < range.upperBound, text.line(end) == text.line(position) { end += 1 }
        if isBarePrompt(position) { return false }
        if end - position <= 12, (position..<end).contains(where: { Self.removalWords.contains(text[$0].lowercased().filter(\.isLetter)) }),
           (position..<end).contains(where: { at in
               // Whole words ("offline" is not "line", "blocked" not "block").
               let word = text[at].lowercased().filter(\.isLetter)
               return word.hasPrefix("utun") || word.hasPrefix("feth")
                   || ["interface", "interfaces", "block", "blocks", "line", "lines"].contains(word)
           }) {
            return true
        }
        // A note that values were masked (`(MAC address redacted)`) takes no interface out.
        if (position..<end).contains(where: { at in
            ["redact", "anonymi", "mask", "censor", "obfuscat", "changed"].contains { text[at].lowercased().contains($0) }
        }) { return false }
        // HTML a forum wraps around a paste (`</details>`, `<br>`, a template's `<!-- Output of
        // … -->`) is markup, not a note.
        let tag = String(text[position].drop { $0 == "<" || $0 == "/" }.prefix { $0.isLetter || $0.isNumber }).lowercased()
        if lead == "<", Self.markupTags.contains(tag) || text[position].hasPrefix("<!") { return false }
        return "([<{".contains(lead) || text[position].contains("8<") || text[position].contains(">8") || text[position].contains("✂")
    }

    /// Whether the line at `position` is a caption under a code block (`^ that was `ifconfig -a |
    /// head -57``): it comes right after the line before it, with only a fence closing the block
    /// (and blank lines) between, and opens no code block of its own, which would make it the
    /// next block's introduction.
    func captionsBlock(_ position: Int) -> Bool {
        guard position > range.lowerBound, text.startsLine(position) else { return false }
        let line = text.line(position)
        let before = text.line(position - 1)
        guard before + 1 < line, (before + 1..<line).contains(where: { text.fenceLines.contains($0) }) else { return false }
        var last = position
        while last + 1 < text.count, text.line(last + 1) == line { last += 1 }
        return !ShellCommand.opensCodeBlock(text, after: last)
    }

    /// What a web page shows where it collapsed a long block, copied along with the block: the
    /// page did not show everything. Compared with a line's letters alone, lowercased, its
    /// numbers and punctuation gone (`Expand 12 lines` is `expand lines`, `Click to expand...`
    /// is `click to expand`).
    static let collapsedBlockNotes: Set<String> = [
        "show more", "see more", "read more", "view more", "load more", "show all", "show all lines", "show lines", "show full",
        "show full output", "expand", "expand lines", "expand all", "click to expand", "click to show", "click to see more",
        "see it in full", "view full", "view the full", "view full file", "show the rest", "more lines",
        "显示更多", "显示全部", "展开", "展开全部", "查看更多", "查看全部", "顯示更多", "展開", "展開全部", "mehr anzeigen", "alle anzeigen",
        "alles anzeigen", "もっと見る", "続きを読む", "すべて表示", "全て表示", "afficher plus", "voir plus", "tout afficher",
        "mostrar más", "ver más", "mostrar todo", "показать ещё", "показать еще", "показать все", "развернуть", "mostra altro",
        "mostra di più", "meer weergeven", "toon meer", "pokaż więcej", "mostrar mais", "ver mais", "더 보기", "더보기", "펼치기",
    ]

    /// Whether the words of a line are a web page's note that it collapsed a block (see
    /// `collapsedBlockNotes`), or Slack's `This snippet was truncated for display; see it in full`.
    static func isCollapsedBlockNote(_ words: [Substring]) -> Bool {
        let letters = words.joined(separator: " ").lowercased().map { $0.isLetter ? $0 : " " }
        let line = String(letters).split(separator: " ").joined(separator: " ")
        return !line.isEmpty && (collapsedBlockNotes.contains(line) || line.contains("see it in full") || line.contains("snippet was truncated"))
    }

    /// Words that say output was taken out of a paste.
    static let removalWords: Set<String> = ["removed", "omitted", "trimmed", "snipped", "snip", "truncated", "deleted", "elided",
                                            "cut", "hidden", "skipped"]

    /// Commands whose output is only part of what they read (a pager's, the pages shown).
    static let cuttingCommands: Set<String> = ["head", "tail", "sed", "grep", "egrep", "fgrep", "rg", "awk", "cut", "sort", "uniq", "less", "more"]

    static let markupTags: Set<String> = ["details", "summary", "br", "p", "pre", "code", "div", "span", "b", "i", "em", "strong",
                                          "hr", "sub", "sup", "kbd", "blockquote", "ul", "ol", "li", "table", "tr", "td", "th", "tt",
                                          "a", "img", "picture", "source", "video", "h1", "h2", "h3", "h4", "h5", "h6", "small", "samp"]

    /// Where the line at `position` ends, when it is a mark where output was left out of a paste:
    /// a line of at most eight words that is dots and brackets holding an ellipsis (`...`, `…`,
    /// `. . .`, `⋮`, `[... 12 more interfaces ...]`), that holds a CJK phrase saying so (`以下略`,
    /// `중략`), that starts with a bracket, a dash or an asterisk and says so (`-- snip --`,
    /// `(output trimmed)`), or that is a short note without one (`rest omitted`, `etc.`, `N more
    /// interfaces`, `…and 30 others`, `same for the rest`). Prose that ends with an ellipsis ("Here
    /// is my output...") or mentions more of something without a count is not one.
    func elisionEnd(_ position: Int) -> Int? {
        guard text.startsLine(position) else { return nil }
        var end = position
        while end < range.upperBound, text.line(end) == text.line(position) { end += 1 }
        if end - position <= 12, Self.isCollapsedBlockNote((position..<end).map { text[$0] }) { return end }
        guard end - position <= 8 else { return nil }
        let words = (position..<end).map { text[$0] }
        let first = words[0]
        let punctuation = Set(".…[]()<>-–—*#:（）［］【】〔〕「」『』《》〈〉｛｝・。、·")
        if first.allSatisfy({ punctuation.contains($0) }), first.contains("...") || first.contains("…") { return end }
        // Dots set apart (`. . .`), alone on their line.
        if words.allSatisfy({ $0.allSatisfy { punctuation.contains($0) } }),
           words.joined().filter({ $0 == "." || $0 == "·" }).count >= 3 || words.joined().contains("…") { return end }
        // A note in Chinese, Japanese or Korean that the rest was left out (`（以下略）`,
        // `【以下省略】`, `后面省略`, `(이하 생략)`, `중략`, `以下同様`): no tool prints these. Whole
        // phrases only: 略 alone is also in 策略 ("policy") and 忽略 ("ignore").
        let line = words.joined(separator: " ")
        if Self.cjkElisions.contains(where: { line.contains($0) }) || words.contains(where: { $0.hasSuffix("략") || $0 == "略" }) { return end }
        let bare = words.map { $0.lowercased().filter(\.isLetter) }
        // Dots across or around a word (`⋮`, `⋯`, `...more...`, `…snip…`).
        if words.count == 1, ["⋮", "⋯", "︙"].contains(first) { return end }
        if first.hasPrefix("..") || first.hasPrefix("…"), first.hasSuffix("..") || first.hasSuffix("…"), !bare[0].isEmpty { return end }
        // A short note that says so without brackets (`rest omitted`, `etc.`, `usw.`, `and so on`,
        // `and 3 more interfaces like the above`, `…and 30 others`).
        if words.count <= 4, bare.contains(where: { Self.elisionWords.contains($0) }) { return end }
        let lower = line.lowercased()
        if lower.contains("not shown") || (lower.contains("not all") && lower.contains("shown")) || lower.contains("и т.д") || lower.contains("и т. д") { return end }
        // `— more —`: the word between dashes or dots, nothing else.
        if words.count <= 3, bare.filter({ !$0.isEmpty }) == ["more"], words.count > 1 { return end }
        if bare.allSatisfy({ ["etc", "etcetera", "usw", "and", "so", "on", "forth", ""].contains($0) }),
           bare.contains(where: { ["etc", "etcetera", "usw"].contains($0) }) || line.lowercased().contains("so on") || line.lowercased().contains("so forth") { return end }
        // "N more …", "many more utuns follow", "…and more", "more of the same" say a count was left
        // out; "more" in a question is prose ("why are there more utun interfaces now?").
        let quantities: Set<String> = ["many", "lots", "dozens", "hundreds", "several", "few", "bunch", "tons", "plenty"]
        if let more = bare.indices.first(where: { index in
            guard ["more", "others", "similar"].contains(bare[index]) else { return false }
            if index > 0, Int(words[index - 1].filter(\.isNumber)) != nil || quantities.contains(bare[index - 1]) { return true }
            if bare.first == "and" || first.hasPrefix("+") { return true }
            return index + 1 < bare.count && ["follow", "follows", "like", "of"].contains(bare[index + 1])
        }), more == bare.count - 1 || bare[more...].contains(where: { word in
            ["interface", "interfaces", "block", "blocks", "line", "lines", "row", "rows", "entries", "processes", "routes", "utuns", "like",
             "not", "below", "follow", "follows", "same"].contains(word) || word.hasPrefix("utun") || word.hasPrefix("feth")
        }) { return end }
        // "same for the rest", "didn't paste the rest", "the rest look identical".
        if let rest = bare.firstIndex(of: "rest"), bare.contains(where: { ["same", "paste", "pasted", "omitted", "cut", "identical", "similar", "left", "skipped"].contains($0) }),
           rest > 0 { return end }
        // Etc. in other languages (`ecc.`, `enz.`, `itd.`, `vb.`), and a lone `..` or scissors.
        if words.count <= 2, bare.contains(where: { ["ecc", "enz", "itd", "vb", "usw", "etc"].contains($0) }) { return end }
        if words.count == 1, first == ".." || first.unicodeScalars.contains("\u{2702}") || first == "&hellip;" { return end }
        guard let lead = first.first, "[(<-–—*#（［【〔「『《〈".contains(lead) else { return nil }
        for word in bare where Self.elisionWords.contains(word) { return end }
        return nil
    }
}
