// Package report provides the human-readable renderings of an fgsm audit: a
// Markdown summary, a robustness curve and a grid of adversarial examples.
package report
