package fgsm

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// TestCleanCheckText checks, for reports from each gradient engine and
// from before CleanLogits was recorded, whose logits the report says the
// clean check compared, in its text, its warning and its JSON; and that
// where the gradient graph and the deployed model are both ONNX Runtime on
// one device the text says so.
func TestCleanCheckText(t *testing.T) {
	graph := "the gradient graph on ONNX Runtime (cpu)"
	same := "two ONNX Runtime sessions on cpu (the gradient graph and the deployed model)"
	for _, test := range []struct {
		name                     string
		runtime, grads, clean    string
		blackBox                 bool
		source                   string   // CleanSource
		sameRuntime              bool     // CleanSameRuntime
		check, warning, notCheck []string // in CleanCheck, in the warning, in neither
		json                     string   // the clean_logits field as JSON writes it; "" for none
	}{
		{name: "interpreter", runtime: "onnxruntime/cpu", grads: "interpreter", clean: "interpreter", source: "interpreter",
			check:    []string{"30 of 1000 clean samples classified differently by the interpreter and onnxruntime/cpu"},
			warning:  []string{"the interpreter and onnxruntime/cpu disagree on 30 of 1000 clean samples"},
			notCheck: []string{"ONNX Runtime sessions", "graph"}, json: `"clean_logits":"interpreter"`},
		{name: "graph, one device", runtime: "onnxruntime/cpu", grads: "onnxruntime-graph/cpu", clean: "onnxruntime-graph/cpu",
			source: "onnxruntime-graph/cpu", sameRuntime: true,
			check:    []string{"by " + graph + " and onnxruntime/cpu", same, "--cross-check"},
			warning:  []string{graph + " and onnxruntime/cpu disagree on 30 of 1000 clean samples", "both are ONNX Runtime on one device"},
			notCheck: []string{"interpreter and"}, json: `"clean_logits":"onnxruntime-graph/cpu"`},
		{name: "graph on CUDA, runtime on the CPU", runtime: "onnxruntime/cpu", grads: "onnxruntime-graph/cuda", clean: "onnxruntime-graph/cuda",
			source:   "onnxruntime-graph/cuda",
			check:    []string{"by the gradient graph on ONNX Runtime (cuda) and onnxruntime/cpu"},
			warning:  []string{"the gradient graph on ONNX Runtime (cuda) and onnxruntime/cpu disagree on 30"},
			notCheck: []string{"ONNX Runtime sessions", "one device"}, json: `"clean_logits":"onnxruntime-graph/cuda"`},
		{name: "graph, clean logits from the interpreter's forward pass", runtime: "onnxruntime/cpu", grads: "onnxruntime-graph/cpu", clean: "interpreter",
			source: "interpreter", check: []string{"by the interpreter and onnxruntime/cpu"}, warning: []string{"the interpreter and onnxruntime/cpu disagree"},
			notCheck: []string{"ONNX Runtime sessions"}, json: `"clean_logits":"interpreter"`},
		{name: "shards on both", runtime: "onnxruntime/cpu", grads: "interpreter, onnxruntime-graph/cpu", clean: "interpreter, onnxruntime-graph/cpu",
			source:   "interpreter, onnxruntime-graph/cpu",
			check:    []string{"by the gradient engines (interpreter, onnxruntime-graph/cpu, by shard) and onnxruntime/cpu"},
			warning:  []string{"the gradient engines (interpreter, onnxruntime-graph/cpu, by shard) and onnxruntime/cpu disagree"},
			notCheck: []string{"ONNX Runtime sessions"}, json: `"clean_logits":"interpreter, onnxruntime-graph/cpu"`},
		{name: "before gradient engines", runtime: "onnxruntime/cpu", source: "interpreter",
			check: []string{"by the interpreter and onnxruntime/cpu"}, warning: []string{"the interpreter and onnxruntime/cpu disagree on 30"}},
		{name: "before clean_logits, interpreter", runtime: "onnxruntime/cpu", grads: "interpreter", source: "interpreter",
			check: []string{"by the interpreter and onnxruntime/cpu"}, warning: []string{"the interpreter and onnxruntime/cpu disagree on 30"}},
		{name: "before clean_logits, graph", runtime: "onnxruntime/cpu", grads: "onnxruntime-graph/cpu",
			check:    []string{"by the gradient engine (not recorded) and onnxruntime/cpu"},
			warning:  []string{"the gradient engine (not recorded) and onnxruntime/cpu disagree on 30"},
			notCheck: []string{"ONNX Runtime sessions"}},
		{name: "the interpreter classifies", runtime: "interp", grads: "interpreter"},
		{name: "black-box", runtime: "onnxruntime/cpu", blackBox: true},
	} {
		r := &Report{Samples: 1000, CleanCorrect: 900, Runtime: test.runtime, GradEngine: test.grads, CleanLogits: test.clean,
			Checks: Checks{BlackBox: test.blackBox}}
		if test.check != nil {
			r.CleanDisagreement = 30
		}
		r.finish()
		if got := r.CleanSource(); got != test.source {
			t.Errorf("%s: CleanSource %q, want %q", test.name, got, test.source)
		}
		if got := r.CleanSameRuntime(); got != test.sameRuntime {
			t.Errorf("%s: CleanSameRuntime %v, want %v", test.name, got, test.sameRuntime)
		}
		checkCleanText(t, test.name, r, test.check, test.warning, test.notCheck)
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(data), `"clean_logits"`); got != (test.json != "") || test.json != "" && !strings.Contains(string(data), test.json) {
			t.Errorf("%s: JSON %s; want clean_logits as %s", test.name, data, test.json)
		}
	}
}

// checkCleanText checks that r's clean check says each of check (and is
// empty for none), its warning each of warning, and neither anything of
// notCheck.
func checkCleanText(t *testing.T, name string, r *Report, want, warn, notCheck []string) {
	t.Helper()
	check := r.CleanCheck()
	if want == nil && check != "" {
		t.Errorf("%s: clean check %q where nothing was compared", name, check)
	}
	if strings.Contains(check, "\n") {
		t.Errorf("%s: clean check %q is more than one line", name, check)
	}
	var warning string // the clean check's warning
	for _, w := range r.Warnings {
		if strings.Contains(w, "clean samples") {
			warning += w
		}
	}
	if warn == nil && warning != "" {
		t.Errorf("%s: warnings %q", name, warning)
	}
	for _, s := range want {
		if !strings.Contains(check, s) {
			t.Errorf("%s: clean check %q does not say %q", name, check, s)
		}
	}
	for _, s := range warn {
		if !strings.Contains(warning, s) {
			t.Errorf("%s: warning %q does not say %q", name, warning, s)
		}
	}
	for _, s := range notCheck {
		if strings.Contains(check, s) || strings.Contains(warning, s) {
			t.Errorf("%s: clean check %q or warning %q says %q", name, check, warning, s)
		}
	}
}

// oldReport is a shard's report.json as onnxguard wrote it before
// clean_logits (and, with grads "", before grad_engine): 10 samples from
// start, classified by ONNX Runtime.
func oldReport(start int, grads string) string {
	engine := ""
	if grads != "" {
		engine = `"grad_engine":"` + grads + `",`
	}
	return `{"version":2,"tool":"onnxguard 0.9","model":{"path":"m.onnx","sha256":"ab","opset":13,"input":"x","input_shape":[-1,1,28,28]},
"data":"d.npy","runtime":"onnxruntime/cpu",` + engine + `"samples":10,"clean_correct":9,"clean_accuracy":0.9,
"clean_per_class":[{"class":0,"samples":6,"correct":5,"accuracy":0.8333},{"class":1,"samples":4,"correct":4,"accuracy":1}],
"clean_disagreement":1,
"results":[{"method":"fgsm","eps":0.1,"alpha":0.1,"steps":1,"restarts":1,"samples":10,"correct":5,"accuracy":0.5,"eligible":9,"successes":4,
"success_rate":0.4444,"cross_checked":0,"disagreements":0,"runtime_disagreement":0,"linf_mean":0.1,"linf_max":0.1,"l2_mean":2,"l2_max":2.5,
"linf_sum":1,"l2_sum":20,"per_class":[{"class":0,"samples":6,"correct":3,"accuracy":0.5},{"class":1,"samples":4,"correct":2,"accuracy":0.5}]}],
"checks":{},"settings":{"batch":64,"input_scale":1},"seed":1,
"shards":[{"index":` + map[int]string{0: "0", 10: "1", 20: "2"}[start] + `,"of":3,"start":` + map[int]string{0: "0", 10: "10", 20: "20"}[start] + `,"end":` + map[int]string{0: "10", 10: "20", 20: "30"}[start] + `}],
"warnings":null}`
}

// TestOldReportsMerge reads shard reports written before clean_logits and
// merges them with each other and with a newer shard: they read, merge
// and say whose clean logits were compared where they can tell.
func TestOldReportsMerge(t *testing.T) {
	read := func(s string) *Report {
		t.Helper()
		var r Report
		if err := json.Unmarshal([]byte(s), &r); err != nil {
			t.Fatalf("%v in %s", err, s)
		}
		if err := r.Validate(); err != nil {
			t.Fatal(err)
		}
		return &r
	}
	graphShard := read(oldReport(20, "onnxruntime-graph/cpu"))
	graphShard.CleanLogits = "onnxruntime-graph/cpu" // as this version writes it
	interpShard := read(oldReport(10, "interpreter"))
	interpShard.CleanLogits = "interpreter"
	for _, test := range []struct {
		name    string
		shards  []*Report
		clean   string // the merged report's CleanLogits
		inCheck string
	}{
		{"before grad_engine", []*Report{read(oldReport(0, "")), read(oldReport(10, ""))}, "interpreter", "by the interpreter and onnxruntime/cpu"},
		{"before clean_logits, interpreter", []*Report{read(oldReport(0, "interpreter")), read(oldReport(10, ""))}, "interpreter", "by the interpreter"},
		{"before clean_logits, graph", []*Report{read(oldReport(0, "onnxruntime-graph/cpu")), read(oldReport(10, "onnxruntime-graph/cpu"))}, "not recorded", "(not recorded)"},
		{"old graph and new interpreter", []*Report{read(oldReport(0, "onnxruntime-graph/cpu")), interpShard}, "not recorded, interpreter", "gradient engines (not recorded, interpreter, by shard)"},
		{"old and new", []*Report{read(oldReport(0, "interpreter")), graphShard}, "interpreter, onnxruntime-graph/cpu", "gradient engines (interpreter, onnxruntime-graph/cpu, by shard)"},
	} {
		m, err := Merge(test.shards)
		if err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		if m.Samples != 20 || m.CleanDisagreement != 2 || m.CleanLogits != test.clean {
			t.Errorf("%s: merged %d samples, %d clean disagreements, clean logits %q; want 20, 2, %q", test.name, m.Samples, m.CleanDisagreement, m.CleanLogits, test.clean)
		}
		if c := m.CleanCheck(); !strings.Contains(c, "2 of 20 clean samples") || !strings.Contains(c, test.inCheck) {
			t.Errorf("%s: clean check %q; want it to say 2 of 20 and %q", test.name, c, test.inCheck)
		}
	}
}

// engineNamed is a gradient source that says its cross-entropy passes run
// on the gradient graph (on cpu), as gradengine.Engine says with a graph,
// while the interpreter computes them all.
type engineNamed struct{ countingGradients }

func (e *engineNamed) GradEngine(want interp.Want) string {
	if want.Loss == nil && !want.Training {
		return "onnxruntime-graph/cpu"
	}
	return "interpreter"
}

func (e *engineNamed) RunEngine() string { return "interpreter" }

// TestAuditCleanLogits audits with a gradient source whose cross-entropy
// passes are named as the graph's: the report records whose clean logits
// it compared (the first gradient pass's, the forward pass's where no
// pass was at the clean images, and the interpreter's forward pass under
// --cross-check where the pass was the graph's), with one forward pass a
// batch only in the last two cases.
func TestAuditCleanLogits(t *testing.T) {
	base, _, deployed := countedModel(t)
	e := &engineNamed{countingGradients{Gradients: base.G}}
	m, err := NewModel(e, base.Pre)
	if err != nil {
		t.Fatal(err)
	}
	images, labelsPath := writeSlice(t, 20)
	fgsm := Config{Method: FGSM, Eps: 0.05}
	pgd := Config{Method: PGD, Eps: 0.05, Steps: 2, RandomStart: true}
	apgd := Ensemble{Name: "apgd-ce", Norm: Linf, Eps: 0.05, Stages: []StageSpec{{Name: "apgd-ce", Iters: 2}}}
	const batches = 2
	for _, test := range []struct {
		attacks   []Config
		ensembles []Ensemble
		xchk      bool
		clean     string
		runs      int // forward passes a batch
	}{
		{attacks: []Config{fgsm}, clean: "onnxruntime-graph/cpu"},
		{attacks: []Config{fgsm}, xchk: true, clean: "interpreter", runs: 2},
		{attacks: []Config{pgd}, clean: "interpreter", runs: 1},
		{attacks: []Config{fgsm}, ensembles: []Ensemble{apgd}, clean: "interpreter"}, // the checks' DLR pass, on the interpreter
	} {
		src, err := dataset.Open(images, &dataset.Options{Labels: labelsPath})
		if err != nil {
			t.Fatal(err)
		}
		opt := AuditOptions{Attacks: test.attacks, Ensembles: test.ensembles, Batch: 20 / batches, Seed: 5,
			CrossCheck: test.xchk, Check: deployed, RuntimeName: "onnxruntime/cpu"}
		e.runs = 0
		r, err := Audit(context.Background(), m, src, opt)
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		name := r.Results[0].Name()
		if r.CleanLogits != test.clean || r.CleanDisagreement != 0 {
			t.Errorf("%s (ensembles %d, cross-check %v): clean logits %q, %d disagreements; want %q, 0",
				name, len(test.ensembles), test.xchk, r.CleanLogits, r.CleanDisagreement, test.clean)
		}
		if rn := e.runs - 1; len(test.ensembles) == 0 && rn != batches*test.runs {
			t.Errorf("%s (cross-check %v): %d forward passes, want %d", name, test.xchk, rn, batches*test.runs)
		}
		if same := test.clean == "onnxruntime-graph/cpu"; r.CleanSameRuntime() != same {
			t.Errorf("%s: CleanSameRuntime %v, want %v", name, r.CleanSameRuntime(), same)
		}
	}
	src, err := dataset.Open(images, &dataset.Options{Labels: labelsPath})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	r, err := Audit(context.Background(), m, src, AuditOptions{Attacks: []Config{fgsm}, Batch: 10, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if r.CleanLogits != "" || r.CleanCheck() != "" {
		t.Errorf("the interpreter classifying: clean logits %q, check %q; want nothing compared", r.CleanLogits, r.CleanCheck())
	}
}
