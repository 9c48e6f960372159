package fgsm

import (
	"math"
	"strings"
	"testing"
)

// smallReport is a possible report of 10 samples in 2 classes.
func smallReport() *Report {
	return &Report{Version: ReportVersion, Samples: 10, CleanCorrect: 9, CleanPerClass: []ClassCount{{Samples: 6, Correct: 5}, {Samples: 4, Correct: 4}},
		Shards: []Shard{{Index: 0, Of: 2, Start: 0, End: 10}},
		Results: []*Result{{Config: Config{Method: FGSM, Eps: 0.1, Alpha: 0.1, Steps: 1, Restarts: 1}, Samples: 10, Correct: 5, Eligible: 9, Successes: 4,
			LinfSum: 1, L2Sum: 20, LinfMax: 0.1, L2Max: 2.5, PerClass: []ClassCount{{Samples: 6, Correct: 3}, {Samples: 4, Correct: 2}}}}}
}

func TestMergeRefusesImpossibleReports(t *testing.T) {
	if _, err := Merge([]*Report{smallReport()}); err != nil {
		t.Fatalf("a possible report: %v", err)
	}
	for _, test := range []struct {
		name   string
		change func(r *Report)
		says   string
	}{
		{"clean correct above samples", func(r *Report) { r.CleanCorrect = 1000 }, "a count of 1000 for 10 samples"},
		{"negative samples", func(r *Report) { r.Samples = -3 }, "-3 samples"},
		{"shards do not cover the samples", func(r *Report) { r.Shards[0].End = 7 }, "cover 7 samples but it counts 10"},
		{"backward shard", func(r *Report) { r.Shards[0].Start, r.Shards[0].End = 10, 0 }, "not a shard"},
		{"shard index past its count", func(r *Report) { r.Shards[0].Index = 2 }, "not a shard"},
		{"attack correct above samples", func(r *Report) { r.Results[0].Correct = 11 }, "a count of 11"},
		{"successes above eligible", func(r *Report) { r.Results[0].Successes = 10 }, "10 successes of 9 eligible"},
		{"attack samples differ", func(r *Report) { r.Results[0].Samples = 9 }, "9 samples, the report has 10"},
		{"class correct above its samples", func(r *Report) { r.CleanPerClass[1].Correct = 5 }, "class 1 has 5 correct of 4"},
		{"classes above samples", func(r *Report) { r.Results[0].PerClass[0].Samples = 60 }, "more than the report's 10"},
		{"NaN sum", func(r *Report) { r.Results[0].L2Sum = math.NaN() }, "finite"},
		{"eps NaN", func(r *Report) { r.Results[0].Eps = math.NaN() }, "eps NaN"},
		{"L∞ above 1", func(r *Report) { r.Results[0].LinfMax = 2 }, "impossible"},
		{"sum above samples × max", func(r *Report) { r.Results[0].L2Sum = 1e300 }, "impossible"},
		{"samples past 2^40", func(r *Report) { r.Samples = 1 << 50 }, "want 0 to 2^40"},
	} {
		r := smallReport()
		test.change(r)
		_, err := Merge([]*Report{r})
		if err == nil || !strings.Contains(err.Error(), test.says) {
			t.Errorf("%s: error %v, want one saying %q", test.name, err, test.says)
		}
	}
}

// TestMissingShardsHuge checks that a report claiming to be one of a
// billion shards is named in a short warning, quickly.
func TestMissingShardsHuge(t *testing.T) {
	w := missingShards([]Shard{{Index: 0, Of: 1 << 30}})
	if !strings.Contains(w, "1073741823 shards of 1073741824 are missing") || len(w) > 200 {
		t.Errorf("warning %q", w)
	}
}

// TestJoinEngines: shards computed on different gradient engines list
// each once; reports from before the field add nothing.
func TestJoinEngines(t *testing.T) {
	for _, test := range []struct{ have, add, want string }{
		{"", "interpreter", "interpreter"},
		{"interpreter", "interpreter", "interpreter"},
		{"interpreter", "", "interpreter"},
		{"interpreter", "onnxruntime-graph/cpu", "interpreter, onnxruntime-graph/cpu"},
		{"interpreter, onnxruntime-graph/cpu", "onnxruntime-graph/cpu", "interpreter, onnxruntime-graph/cpu"},
	} {
		if got := joinEngines(test.have, test.add); got != test.want {
			t.Errorf("joinEngines(%q, %q) = %q, want %q", test.have, test.add, got, test.want)
		}
	}
}
