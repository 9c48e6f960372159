// Command reportcmp checks that two audit reports (report.json, or the
// output of audit --json) hold the same counts: samples, clean and
// per-class correct, and per attack its correct, eligible, successes,
// skipped and disagreements. scripts/image-test.sh uses it to check that
// shards merged in containers equal one run.
//
//	go run ./scripts/reportcmp A.json B.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"

	"github.com/onnxguard/onnxguard/fgsm"
)

// counts is what two runs of the same audit on the same data must share.
type counts struct {
	Samples, CleanCorrect int
	CleanPerClass         []fgsm.ClassCount
	Results               []resultCounts
}

type resultCounts struct {
	Name                                                   string
	Samples, Correct, Eligible, Successes, Skipped, Disagr int
	PerClass                                               []fgsm.ClassCount
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: reportcmp A.json B.json")
		os.Exit(2)
	}
	a, err := load(os.Args[1])
	if err == nil {
		var b counts
		if b, err = load(os.Args[2]); err == nil && !reflect.DeepEqual(a, b) {
			err = fmt.Errorf("the reports differ:\n%s: %+v\n%s: %+v", os.Args[1], a, os.Args[2], b)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "reportcmp:", err)
		os.Exit(1)
	}
}

func load(path string) (counts, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return counts{}, err
	}
	var r fgsm.Report
	if err := json.Unmarshal(data, &r); err != nil {
		return counts{}, fmt.Errorf("%s: %w", path, err)
	}
	c := counts{Samples: r.Samples, CleanCorrect: r.CleanCorrect, CleanPerClass: r.CleanPerClass}
	for _, res := range r.Results {
		c.Results = append(c.Results, resultCounts{res.Name(), res.Samples, res.Correct, res.Eligible,
			res.Successes, res.Skipped, res.Disagreements, res.PerClass})
	}
	return c, nil
}
