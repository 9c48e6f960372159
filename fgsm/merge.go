package fgsm

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Merge combines the reports of shards of one data set, audited with the
// same model, attacks, preprocessing and seed, into the report one run over
// their union would give: counts and sums add, maxima take the larger, lists
// of samples join, rates and means are derived again. The shards must not
// overlap; shards missing from a K/N split are named in a warning.
func Merge(reports []*Report) (*Report, error) {
	if len(reports) == 0 {
		return nil, fmt.Errorf("no reports to merge")
	}
	base := reports[0]
	out := newReport(base)
	for i, r := range reports {
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("report %d: %w", i+1, err)
		}
		if err := compatible(base, r); err != nil {
			return nil, fmt.Errorf("report %d: %w", i+1, err)
		}
		out.add(r)
	}
	sort.Slice(out.Shards, func(i, j int) bool { return out.Shards[i].Start < out.Shards[j].Start })
	for i := 1; i < len(out.Shards); i++ {
		if a, b := out.Shards[i-1], out.Shards[i]; b.Start < a.End {
			return nil, fmt.Errorf("shards overlap: samples [%d, %d) and [%d, %d); merge each shard's report once", a.Start, a.End, b.Start, b.End)
		}
	}
	out.finish()
	if missing := missingShards(out.Shards); missing != "" {
		out.Warnings = append(out.Warnings, missing)
	}
	return out, nil
}

// newReport returns a report with base's identity and attacks and no
// counts.
func newReport(base *Report) *Report {
	out := &Report{Version: ReportVersion, Tool: base.Tool, Model: base.Model, Data: base.Data, Runtime: base.Runtime,
		GradEngine: base.GradEngine,
		Settings:   base.Settings, Seed: base.Seed, Classes: base.Classes,
		CleanPerClass: classes(len(base.CleanPerClass))}
	for _, res := range base.Results {
		out.Results = append(out.Results, &Result{Config: res.Config, PerClass: classes(len(res.PerClass))})
	}
	for _, res := range base.Ensembles {
		out.Ensembles = append(out.Ensembles, newEnsembleResult(res.Ensemble, len(res.PerClass)))
	}
	return out
}

// add adds the counts of r, a report of other samples with the same
// attacks, to out.
func (out *Report) add(r *Report) {
	out.Shards = append(out.Shards, r.Shards...)
	out.GradEngine = joinEngines(out.GradEngine, r.GradEngine)
	out.Samples += r.Samples
	out.CleanCorrect += r.CleanCorrect
	out.CleanDisagreement += r.CleanDisagreement
	if src := r.CleanSource(); src != "" {
		out.CleanLogits = joinEngines(out.CleanLogits, src)
	} else if r.Runtime != selfRuntime && !r.Checks.BlackBox {
		// A shard that compared clean logits without saying whose: the
		// merged report says so, rather than take another shard's engine.
		out.CleanLogits = joinEngines(out.CleanLogits, notRecorded)
	}
	addClasses(out.CleanPerClass, r.CleanPerClass)
	for j, res := range r.Results {
		o := out.Results[j]
		o.Samples += res.Samples
		o.Correct += res.Correct
		o.Eligible += res.Eligible
		o.Successes += res.Successes
		o.Skipped += res.Skipped
		o.CrossChecked += res.CrossChecked
		o.Disagreements += res.Disagreements
		o.LinfSum += res.LinfSum
		o.L2Sum += res.L2Sum
		o.LinfMax = max(o.LinfMax, res.LinfMax)
		o.L2Max = max(o.L2Max, res.L2Max)
		addClasses(o.PerClass, res.PerClass)
	}
	for j, res := range r.Ensembles {
		out.Ensembles[j].add(res)
	}
	out.Checks.add(r.Checks)
	out.Examples = append(out.Examples, r.Examples...)
}

// compatible checks that r audited what base audited.
func compatible(base, r *Report) error {
	switch {
	case r.Version != base.Version:
		return fmt.Errorf("report format version %d, the first report's is %d", r.Version, base.Version)
	case r.Model.SHA256 != base.Model.SHA256:
		return fmt.Errorf("model %s (sha256 %.12s…) differs from the first report's %s (%.12s…)", r.Model.Path, r.Model.SHA256, base.Model.Path, base.Model.SHA256)
	case r.Seed != base.Seed:
		return fmt.Errorf("seed %d differs from the first report's %d", r.Seed, base.Seed)
	case r.Data != base.Data:
		return fmt.Errorf("data %q differs from the first report's %q", r.Data, base.Data)
	case !r.Settings.samePreprocessing(base.Settings):
		return fmt.Errorf("preprocessing differs from the first report's")
	case len(r.Results) != len(base.Results):
		return fmt.Errorf("%d attack results, the first report has %d", len(r.Results), len(base.Results))
	case len(r.CleanPerClass) != len(base.CleanPerClass):
		return fmt.Errorf("%d classes, the first report has %d", len(r.CleanPerClass), len(base.CleanPerClass))
	case len(r.Ensembles) != len(base.Ensembles):
		return fmt.Errorf("%d ensemble results, the first report has %d", len(r.Ensembles), len(base.Ensembles))
	}
	for i, res := range r.Ensembles {
		if err := compatibleEnsemble(base.Ensembles[i], res); err != nil {
			return err
		}
	}
	for i, res := range r.Results {
		if res.Config != base.Results[i].Config {
			return fmt.Errorf("attack %d is %s, the first report's is %s", i+1, res.Name(), base.Results[i].Name())
		}
		if len(res.PerClass) != len(base.Results[i].PerClass) {
			return fmt.Errorf("attack %d scores %d classes, the first report's %d", i+1, len(res.PerClass), len(base.Results[i].PerClass))
		}
	}
	return nil
}

func addClasses(dst, src []ClassCount) {
	for i := range src {
		dst[i].Samples += src[i].Samples
		dst[i].Correct += src[i].Correct
	}
}

// missingShards names the shards of a K/N split that are absent, or
// returns "". It lists the first few only, however large N.
func missingShards(shards []Shard) string {
	n := 0
	seen := map[int]bool{}
	for _, s := range shards {
		n = max(n, s.Of)
		seen[s.Index] = true
	}
	if n <= 1 {
		return ""
	}
	const list = 10
	var missing []int
	for k := 0; k < n && len(missing) < list; k++ {
		if !seen[k] {
			missing = append(missing, k+1)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	count := n - len(seen)
	if count > len(missing) {
		return fmt.Sprintf("%d shards of %d are missing from the merge (the first: %v): the figures cover part of the data", count, n, missing)
	}
	return fmt.Sprintf("shards %v of %d are missing from the merge: the figures cover part of the data", missing, n)
}

// Validate checks that the counts of a report read from a file are
// possible: none negative, correct at most samples, successes at most the
// eligible samples, the shards' ranges adding up to the samples, sums and
// maxima finite. Merge validates every report it is given.
func (r *Report) Validate() error {
	if r.Samples < 0 || r.Samples > maxSamples {
		return fmt.Errorf("%d samples; want 0 to 2^40", r.Samples)
	}
	if err := countsWithin("clean", r.Samples, r.CleanCorrect, r.CleanDisagreement); err != nil {
		return err
	}
	if err := classesWithin("clean", r.CleanPerClass, r.Samples); err != nil {
		return err
	}
	covered := 0
	for _, s := range r.Shards {
		if s.Start < 0 || s.End < s.Start || s.End > maxSamples || s.Of < 0 || s.Index < 0 || s.Of > 0 && s.Index >= s.Of {
			return fmt.Errorf("shard %d of %d covers samples [%d, %d): not a shard", s.Index+1, s.Of, s.Start, s.End)
		}
		covered += s.End - s.Start
	}
	if len(r.Shards) > 0 && covered != r.Samples {
		return fmt.Errorf("its shards cover %d samples but it counts %d", covered, r.Samples)
	}
	for i, res := range r.Results {
		what := fmt.Sprintf("attack %d (%s)", i+1, res.Name())
		switch {
		case !(res.Eps > 0 && res.Eps <= 1):
			return fmt.Errorf("%s: eps %g outside (0, 1]", what, res.Eps)
		case res.Samples != r.Samples:
			return fmt.Errorf("%s: %d samples, the report has %d", what, res.Samples, r.Samples)
		case res.Successes < 0 || res.Eligible < 0 || res.Successes > res.Eligible || res.Eligible > res.Samples:
			return fmt.Errorf("%s: %d successes of %d eligible samples of %d", what, res.Successes, res.Eligible, res.Samples)
		}
		if err := countsWithin(what, res.Samples, res.Correct, res.CrossChecked, res.Disagreements, res.Skipped); err != nil {
			return err
		}
		if err := classesWithin(what, res.PerClass, res.Samples); err != nil {
			return err
		}
		for _, v := range []float64{res.LinfSum, res.L2Sum, res.LinfMax, res.L2Max} {
			if !(v >= 0) || math.IsInf(v, 0) {
				return fmt.Errorf("%s: perturbation sums and maxima must be finite and not negative, found %v", what, v)
			}
		}
		// Pixels are in [0,1]: no L∞ distance exceeds 1, and no L2
		// distance the square root of a 2^40-pixel image.
		n, slack := float64(res.Samples), 1+1e-9
		if res.LinfMax > 1 || res.L2Max > 1<<20 || res.LinfSum > n*res.LinfMax*slack || res.L2Sum > n*res.L2Max*slack {
			return fmt.Errorf("%s: perturbation sums %g (L∞) and %g (L2) of %d samples with maxima %g and %g are impossible",
				what, res.LinfSum, res.L2Sum, res.Samples, res.LinfMax, res.L2Max)
		}
	}
	return nil
}

// maxSamples bounds the samples of a report, so that counts added over
// shards cannot overflow.
const maxSamples = 1 << 40

// countsWithin checks that each count lies in [0, samples].
func countsWithin(what string, samples int, counts ...int) error {
	for _, c := range counts {
		if c < 0 || c > samples {
			return fmt.Errorf("%s: a count of %d for %d samples", what, c, samples)
		}
	}
	return nil
}

// classesWithin checks per-class counts: correct within samples, and the
// classes' samples at most the report's.
func classesWithin(what string, pc []ClassCount, samples int) error {
	total := 0
	for i, c := range pc {
		if c.Samples < 0 || c.Correct < 0 || c.Correct > c.Samples {
			return fmt.Errorf("%s: class %d has %d correct of %d samples", what, i, c.Correct, c.Samples)
		}
		if total += c.Samples; total > samples {
			return fmt.Errorf("%s: the classes hold more than the report's %d samples", what, samples)
		}
	}
	return nil
}

// joinEngines adds engine to the comma-separated list have, once.
func joinEngines(have, engine string) string {
	switch {
	case engine == "" || slices.Contains(strings.Split(have, ", "), engine):
		return have
	case have == "":
		return engine
	}
	return have + ", " + engine
}
