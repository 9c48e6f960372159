package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"

	"github.com/onnxguard/onnxguard/fgsm"
)

// Gate is a robustness threshold: the lowest accuracy, clean or under any
// attack, that passes. Set is false when no threshold was given; then
// every test passes and the gate's own test is skipped.
type Gate struct {
	Threshold float64
	Set       bool
}

// JUnit writes r as a JUnit XML test result, read by the test reporters of
// GitLab, Jenkins and GitHub Actions: one testsuite with a testcase for
// clean accuracy and for every attack and ε, failed when its accuracy is
// below the gate's threshold, and a last testcase for the gate itself
// (worst accuracy at least the threshold).
func JUnit(w io.Writer, r *fgsm.Report, g Gate) error {
	if r == nil {
		return errNoReport
	}
	s := junitSuite{Name: "onnxguard audit of " + modelName(r.Model), Properties: []junitProperty{
		{"model", r.Model.Path}, {"sha256", r.Model.SHA256}, {"data", r.Data},
		{"samples", strconv.Itoa(r.Samples)}, {"runtime", r.Runtime}, {"seed", strconv.FormatUint(r.Seed, 10)},
	}}
	if g.Set {
		s.Properties = append(s.Properties, junitProperty{"fail_under", strconv.FormatFloat(g.Threshold, 'g', -1, 64)})
	}
	class := "onnxguard.audit." + modelName(r.Model)
	check := func(name string, acc float64, detail string) {
		tc := junitCase{Class: class, Name: name, Out: fmt.Sprintf("accuracy %s; %s", percent(acc), detail)}
		if g.Set && acc < g.Threshold {
			tc.Failure = &junitFailure{Type: "robustness", Message: fmt.Sprintf("accuracy %s is below --fail-under %s", percent(acc), percent(g.Threshold)), Text: tc.Out}
		}
		s.Cases = append(s.Cases, tc)
	}
	check("clean", r.CleanAccuracy, fmt.Sprintf("%d of %d samples correct", r.CleanCorrect, r.Samples))
	for _, res := range r.Results {
		check(res.Name(), res.Accuracy, fmt.Sprintf("%d of %d samples correct, attack success rate %s", res.Correct, res.Samples, ofSamples(res.Successes, res.Eligible)))
	}
	worst := r.WorstAccuracy()
	gate := junitCase{Class: class, Name: "gate: worst accuracy ≥ --fail-under", Out: "worst accuracy " + percent(worst)}
	switch {
	case !g.Set:
		gate.Skipped = &junitSkipped{Message: "no --fail-under threshold given"}
	case worst < g.Threshold:
		gate.Failure = &junitFailure{Type: "robustness", Message: fmt.Sprintf("robustness gate failed: worst accuracy %s is below --fail-under %s", percent(worst), percent(g.Threshold)), Text: gate.Out}
	}
	s.Cases = append(s.Cases, gate)
	for _, c := range s.Cases {
		s.Tests++
		if c.Failure != nil {
			s.Failures++
		}
		if c.Skipped != nil {
			s.Skipped++
		}
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Name: "onnxguard", Tests: s.Tests, Failures: s.Failures, Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Class   string        `xml:"classname,attr"`
	Name    string        `xml:"name,attr"`
	Time    float64       `xml:"time,attr"` // 0: the audit times no attack alone
	Failure *junitFailure `xml:"failure,omitempty"`
	Skipped *junitSkipped `xml:"skipped,omitempty"`
	Out     string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Type    string `xml:"type,attr"`
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}
