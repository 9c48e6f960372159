package report

import (
	"bytes"
	"encoding/xml"
	"reflect"
	"strings"
	"testing"
)

// TestJUnit parses the XML back with encoding/xml and checks which
// testcases fail at several thresholds.
func TestJUnit(t *testing.T) {
	type testcase struct {
		Name    string `xml:"name,attr"`
		Failure *struct {
			Message string `xml:"message,attr"`
		} `xml:"failure"`
		Skipped *struct{} `xml:"skipped"`
	}
	type doc struct {
		XMLName xml.Name `xml:"testsuites"`
		Suites  []struct {
			Tests    int        `xml:"tests,attr"`
			Failures int        `xml:"failures,attr"`
			Skipped  int        `xml:"skipped,attr"`
			Cases    []testcase `xml:"testcase"`
		} `xml:"testsuite"`
	}
	const gate = "gate: worst accuracy ≥ --fail-under"
	// testReport: clean 92%; fgsm 70, 45, 20%; pgd 60, 30, 12%.
	for _, test := range []struct {
		name        string
		gate        Gate
		wantFailed  []string
		wantSkipped bool
	}{
		{"no threshold", Gate{}, nil, true},
		{"all pass", Gate{Threshold: 0.1, Set: true}, nil, false},
		{"40%", Gate{Threshold: 0.4, Set: true}, []string{"fgsm ε=0.3", "pgd ε=0.1 (10×0.025, random start)", "pgd ε=0.3 (10×0.075, random start)", gate}, false},
		{"at the threshold passes", Gate{Threshold: 0.12, Set: true}, nil, false},
		{"above clean", Gate{Threshold: 0.95, Set: true}, []string{"clean", "fgsm ε=0.05", "fgsm ε=0.1", "fgsm ε=0.3",
			"pgd ε=0.05 (10×0.0125, random start)", "pgd ε=0.1 (10×0.025, random start)", "pgd ε=0.3 (10×0.075, random start)", gate}, false},
	} {
		var buf bytes.Buffer
		if err := JUnit(&buf, testReport(), test.gate); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(buf.String(), xml.Header) {
			t.Errorf("%s: no XML declaration", test.name)
		}
		var d doc
		if err := xml.Unmarshal(buf.Bytes(), &d); err != nil {
			t.Fatalf("%s: the JUnit XML does not parse: %v\n%s", test.name, err, buf.String())
		}
		if len(d.Suites) != 1 {
			t.Fatalf("%s: %d testsuites, want 1", test.name, len(d.Suites))
		}
		s := d.Suites[0]
		var failed []string
		for _, c := range s.Cases {
			if c.Failure != nil {
				failed = append(failed, c.Name)
				if !strings.Contains(c.Failure.Message, "below --fail-under") {
					t.Errorf("%s: %s fails with %q, want the reason", test.name, c.Name, c.Failure.Message)
				}
			}
		}
		last := s.Cases[len(s.Cases)-1]
		if !reflect.DeepEqual(failed, test.wantFailed) || s.Failures != len(test.wantFailed) || s.Tests != 8 ||
			(last.Skipped != nil) != test.wantSkipped || last.Name != gate {
			t.Errorf("%s: %d tests, failures %q (count %d), gate skipped %v; want 8 tests, %q, skipped %v",
				test.name, s.Tests, failed, s.Failures, last.Skipped != nil, test.wantFailed, test.wantSkipped)
		}
	}
}
