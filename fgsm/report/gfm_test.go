package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

var (
	codeSpan = regexp.MustCompile("`[^`]*`")
	htmlTag  = regexp.MustCompile(`<[A-Za-z/!]`)
)

// checkGFM checks that md is plain GitHub-flavoured Markdown, as a job
// summary shows it: no HTML tags outside code, and every table row with
// as many cells as its header.
func checkGFM(t *testing.T, name, md string) {
	t.Helper()
	cells := func(line string) int {
		line = strings.ReplaceAll(line, `\|`, "")
		return strings.Count(line, "|") - 1
	}
	header := 0
	for i, line := range strings.Split(md, "\n") {
		if loc := htmlTag.FindStringIndex(codeSpan.ReplaceAllString(line, "")); loc != nil {
			t.Errorf("%s line %d has an HTML tag: %q", name, i+1, line)
		}
		switch {
		case !strings.HasPrefix(line, "|"):
			header = 0
		case header == 0:
			header = cells(line)
		case cells(line) != header:
			t.Errorf("%s line %d has %d cells, its table's header %d: %q", name, i+1, cells(line), header, line)
		}
	}
}

func TestMarkdownIsPlainGFM(t *testing.T) {
	r := testReport()
	r.Classes = append([]string(nil), r.Classes...)
	r.Classes[0] = "T-shirt|top <b>" // a pipe and a tag in a name must not break the table
	var buf bytes.Buffer
	if err := Markdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	checkGFM(t, "report.md", buf.String())
	if !strings.Contains(buf.String(), `| 0 T-shirt\|top &lt;b> |`) {
		t.Errorf("report.md does not escape the class name's pipe and tag")
	}
	buf.Reset()
	if err := CompareMarkdown(&buf, testComparison(t)); err != nil {
		t.Fatal(err)
	}
	checkGFM(t, "the comparison's report.md", buf.String())
}
