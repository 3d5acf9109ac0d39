import SyncCore

extension DiffReport {
    /// The largest comment GitHub takes is 65,536 characters; the preview stays under 60 KB.
    public static let markdownLimit = 60_000

    /// A pull-request preview: a summary table (one row per region), then per region a collapsible section for each
    /// object that differs, with its field changes and who last set each live value. Secret values stay masked (the
    /// report is masked when it is made). Sections that would take the text past `limit` bytes are left out and
    /// counted in a closing note, so the comment always fits.
    public func markdown(limit: Int = DiffReport.markdownLimit) -> String {
        let drifted = regions.reduce(0) { $0 + $1.resources.filter(\.drift.isDrift).count }
        var head: [String] = []
        if drifted == 0 {
            head.append("### syncagent diff: no differences in \(plural(regions.count, "region"))")
        } else {
            let touched = regions.filter(\.hasDifferences).count
            head.append(
                "### syncagent diff: \(plural(drifted, "object")) differ in \(plural(touched, "region")) "
                    + "of \(regions.count)")
        }
        head.append("")
        let classes = DriftClass.allCases
        head.append("| region | revision | " + classes.map(\.rawValue).joined(separator: " | ") + " |")
        head.append("| --- | --- | " + classes.map { _ in "---:" }.joined(separator: " | ") + " |")
        for region in regions {
            let revision = revisions[region.region].map { "<code>\(Self.cell(String($0.prefix(12))))</code>" } ?? ""
            let counts = classes.map { drift -> String in
                let count = region.counts[drift] ?? 0
                return drift.isDrift && count > 0 ? "**\(count)**" : String(count)
            }
            head.append("| \(Self.cell(region.region)) | \(revision) | " + counts.joined(separator: " | ") + " |")
        }
        var out = head.joined(separator: "\n") + "\n"
        // Room for the closing note, whatever it says.
        let budget = limit - 400
        var omitted = 0
        for region in regions where region.hasDifferences {
            let title = "\n#### \(Self.cell(region.region))\n"
            var wroteTitle = false
            for resource in region.resources where resource.drift.isDrift {
                let section = Self.section(resource)
                let needed = section.utf8.count + (wroteTitle ? 0 : title.utf8.count)
                if omitted > 0 || out.utf8.count + needed > budget {
                    omitted += 1
                    continue
                }
                if !wroteTitle {
                    out += title
                    wroteTitle = true
                }
                out += section
            }
        }
        if omitted > 0 {
            out +=
                "\n> **Truncated:** \(plural(omitted, "more object")) that differ are not shown, to keep this comment "
                + "under \(limit / 1000) KB. Run `syncagent diff` for the full report.\n"
        }
        return out
    }

    /// One object's collapsible section.
    static func section(_ resource: ResourceDiff) -> String {
        let ref = resource.ref
        let name = ref.namespace.isEmpty ? ref.name : "\(ref.namespace)/\(ref.name)"
        var summary =
            "<code>\(cell(resource.drift.rawValue))</code> \(cell(ref.apiVersion))/\(cell(ref.kind)) "
            + "<b>\(cell(name))</b>"
        switch resource.drift {
        case .modified: summary += ": \(plural(resource.changes.count, "field"))"
        case .missingLive: summary += ": a sync creates it"
        case .extra: summary += ": a sync prunes it"
        case .kindNotServed: summary += ": the cluster does not serve this kind; install its CRD first"
        case .unmanagedConflict:
            summary += ": not created by syncagent; a sync takes it over"
            if !resource.changes.isEmpty { summary += " (\(plural(resource.changes.count, "field")))" }
        case .inSync: break
        }
        var lines = ["", "<details><summary>\(summary)</summary>", ""]
        if !resource.changes.isEmpty {
            lines.append("| field | live | desired | live value last set by |")
            lines.append("| --- | --- | --- | --- |")
            for change in resource.changes {
                let hidden = SecretMasking.isMaskedChange(change)
                let live =
                    hidden ? "<i>changed, value hidden</i>" : "<code>\(cell(FieldChange.show(change.live)))</code>"
                let desired = hidden ? "" : "<code>\(cell(FieldChange.show(change.desired)))</code>"
                var who = change.manager.map { cell($0) } ?? "<i>unknown</i>"
                if let time = change.time { who += " at \(cell(time))" }
                lines.append("| <code>\(cell(change.pathString))</code> | \(live) | \(desired) | \(who) |")
            }
        } else if let shown = resource.drift == .extra ? resource.live : resource.target {
            // A whole object: what a sync would create, or what it would delete (masked like the rest).
            lines.append("```yaml")
            lines.append(shown.yamlString.replacingOccurrences(of: "```", with: "ʼʼʼ").trimmingTrailingNewlines())
            lines.append("```")
        }
        lines.append("")
        lines.append("</details>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Text safe inside a table cell and inline HTML: `&`, `<`, `>` escaped, `|` as an entity, one line.
    static func cell(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "|": out += "&#124;"
            case "`": out += "&#96;"
            case "\n", "\r": out += " "
            default: out.append(character)
            }
        }
        return out
    }
}

/// `1 object`, `3 objects`.
private func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }

extension String {
    fileprivate func trimmingTrailingNewlines() -> String {
        var text = self
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
