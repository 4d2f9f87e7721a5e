// The HTML view's files are resources of AttendViz: readable by name, inlined unchanged into the standalone page,
// and placeholders are filled in one pass (a sentence that contains `{{…}}` stays as typed).
import Foundation
import Testing
@testable import AttendViz

@Suite("HTML resources")
struct ResourceTests {
    @Test func everyResourceLoadsAndEndsWithANewline() throws {
        for name in VizResources.names {
            let text = try VizResources.text(name)
            #expect(text.utf8.count > 100, "\(name) is too short to be the real file")
            #expect(text.hasSuffix("\n"), "\(name)")
        }
        #expect(throws: VizResourceError(name: "../Package.swift")) { try VizResources.data("../Package.swift") }
        #expect(VizResources.contentType(of: "attend.js").hasPrefix("text/javascript"))
        #expect(VizResources.contentType(of: "attend.css").hasPrefix("text/css"))
    }

    @Test func pageInlinesTheFilesUnchanged() throws {
        let html = try HTMLReport(trace: try Synthetic.trace(), layer: 2, head: 1, focus: 3).render()
        for name in ["attend.css", "attend.js"] {
            var file = try VizResources.text(name)
            file.removeLast()
            #expect(html.contains(file), "\(name) is not inlined as it is")
        }
        #expect(!html.contains("{{"), "a placeholder was left unfilled")
        #expect(html.hasPrefix("<!DOCTYPE html>\n") && html.hasSuffix("</html>\n"))
    }

    @Test func userTextIsNeverExpanded() throws {
        var trace = try Synthetic.trace()
        trace.text = "say {{attend.js}} and {{data}} <b>"
        let html = try HTMLReport(trace: trace).render()
        #expect(html.contains("say {{attend.js}} and {{data}} &lt;b&gt;"))
        #expect(html.components(separatedBy: "const T = window.__attendTest").count == 2, "the script was inlined twice")
        #expect(HTMLPage.fill("a {{x}} {{y}} {{x", ["x": "{{y}}", "y": "2"]) == "a {{y}} 2 {{x")
    }
}
