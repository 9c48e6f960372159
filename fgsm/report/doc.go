// Package report provides the human-readable renderings of an fgsm audit: a
// Markdown summary, a robustness curve and a grid of adversarial examples.
//
// WriteDir is the usual entry point: it writes report.json (the Report
// itself, for tools and for fgsm.Merge), report.md (Markdown), report.html
// (HTML: one self-contained page built from a Page view), robustness.png
// (Robustness: accuracy against ε, one line per attack) and examples.png
// (Examples: clean and adversarial images side by side with the amplified
// perturbation) into one directory. Each file is written to a temporary name
// and renamed into place, so a reader never sees half a report. The pictures
// are drawn with gonum/plot.
package report
