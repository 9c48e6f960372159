package fgsm

import (
	"encoding/json"
	"math"
	"testing"
)

// FuzzReportMerge reads two reports from JSON, as report merge reads
// shard files, and merges them: any input must merge or give an error,
// and a merged report must itself be possible, with rates in [0,1].
func FuzzReportMerge(f *testing.F) {
	a := smallReport()
	b := smallReport()
	b.Shards = []Shard{{Index: 1, Of: 2, Start: 10, End: 20}}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	f.Add(ja, jb)
	f.Add(ja, ja)
	f.Add([]byte(`{"version":1,"samples":10,"clean_correct":100068,"shards":[{"start":0,"end":10}]}`), jb)
	f.Add([]byte(`{"version":1,"shards":[{"index":0,"of":1000000000}]}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, first, second []byte) {
		var reports []*Report
		for _, data := range [][]byte{first, second} {
			var r Report
			if json.Unmarshal(data, &r) != nil || r.Version != ReportVersion || len(r.Shards) == 0 {
				return // report merge refuses these before Merge
			}
			reports = append(reports, &r)
		}
		m, err := Merge(reports)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Merge accepted reports whose merge is impossible: %v", err)
		}
		rates := []float64{m.CleanAccuracy}
		for _, res := range m.Results {
			rates = append(rates, res.Accuracy, res.SuccessRate, res.RuntimeDisagreement)
		}
		for _, v := range rates {
			if !(v >= 0 && v <= 1) || math.IsNaN(v) {
				t.Fatalf("merged rate %v outside [0,1]", v)
			}
		}
	})
}
