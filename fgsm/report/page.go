package report

import (
	"bytes"
	"embed"
	"encoding/base64"
	"html/template"
	"io"
)

// Page is what an HTML report shows, independent of how it is drawn: a
// title, cards of facts (the model card, the settings) and sections in
// order. The audit and the comparison build one each (newAuditPage,
// newComparePage); a new part of a report, such as an attack cascade or a
// distribution of minimal perturbations, is one more Section appended
// there, with no change to the template.
type Page struct {
	Title    string
	Subtitle string
	Cards    []Card
	Sections []Section
}

// Card is a titled list of facts.
type Card struct {
	Title string
	Facts []Fact
}

// Fact is one line of a card; Code sets the value in a monospace font
// (paths, digests).
type Fact struct {
	Key, Value string
	Code       bool
}

// Section is one part of the page: an introduction, then any of a table,
// a bar chart, a list of notes and a figure, in that order.
type Section struct {
	ID, Title string
	Intro     string
	Table     *Table
	Bars      *BarChart
	Notes     []Note
	Figure    *Figure
	// Empty is said when the section has nothing else to show.
	Empty string
}

// Table is a table of text cells; Numeric marks the columns to align
// right, and a Cell's Class colours it (see the template's CSS: good, bad).
type Table struct {
	Caption string
	Head    []string
	Numeric []bool
	Rows    [][]Cell
}

// Cell is one table cell.
type Cell struct {
	Text  string
	Class string // "", "good" or "bad"
}

// BarChart draws labelled groups of horizontal bars from 0 to 100%: one
// group per class, say, one bar per series.
type BarChart struct {
	Series []string // legend, in the order of each group's bars
	Groups []BarGroup
}

// BarGroup is one label's bars, one per series.
type BarGroup struct {
	Label string
	Bars  []Bar
}

// Bar is one value in [0, 1].
type Bar struct {
	Value float64
	Text  string
}

// Percent is the bar's length for CSS.
func (b Bar) Percent() float64 { return 100 * min(1, max(0, b.Value)) }

// Note is a finding and what it means for the reader.
type Note struct {
	Text, Meaning string
}

// Figure is an image embedded in the page as a data: URI, so the file
// needs nothing beside it.
type Figure struct {
	Alt, Caption string
	Src          template.URL
}

// pngFigure renders a PNG with draw and embeds it.
func pngFigure(alt, caption string, draw func(io.Writer) error) (*Figure, error) {
	var buf bytes.Buffer
	if err := draw(&buf); err != nil {
		return nil, err
	}
	// The data comes from our own PNG encoder: the URI is safe to emit.
	src := template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
	return &Figure{Alt: alt, Caption: caption, Src: src}, nil
}

//go:embed page.html.tmpl
var pageFS embed.FS

var pageTemplate = template.Must(template.New("page.html.tmpl").Funcs(template.FuncMap{
	"seriesClass": func(i int) string { return []string{"s0", "s1", "s2", "s3"}[i%4] },
}).ParseFS(pageFS, "page.html.tmpl"))

// WritePage renders p as one self-contained HTML document: inline CSS,
// images as data: URIs, no scripts and no requests to anywhere.
func WritePage(w io.Writer, p *Page) error {
	return pageTemplate.Execute(w, p)
}
