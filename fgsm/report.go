package fgsm

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/runtime"
)

// ReportVersion is the format version of report.json: 2 added the
// ensembles (AutoAttack) and the checks; a version 1 report reads as a
// version 2 one without them.
const ReportVersion = 2

// Report is an audit's outcome: clean accuracy, then one Result per attack
// and ε. Counts and sums are kept beside the rates they give so that shard
// reports merge exactly (see Merge).
type Report struct {
	Version int       `json:"version"`
	Tool    string    `json:"tool"`
	Model   ModelInfo `json:"model"`
	Data    string    `json:"data"`
	Runtime string    `json:"runtime"` // the engine that classified the images
	// GradEngine names what computed the cross-entropy gradients:
	// "interpreter", or "onnxruntime-graph/" and the device (other losses
	// run on the interpreter); empty in reports from before it was
	// recorded. Shards computed on different engines list each.
	GradEngine    string       `json:"grad_engine,omitempty"`
	Samples       int          `json:"samples"`
	CleanCorrect  int          `json:"clean_correct"`
	CleanAccuracy float64      `json:"clean_accuracy"`
	CleanPerClass []ClassCount `json:"clean_per_class"`
	// CleanDisagreement counts clean samples that the runtime and the
	// engine named by CleanLogits classify differently.
	CleanDisagreement int `json:"clean_disagreement"`
	// CleanLogits names the engine whose logits for the clean images
	// CleanDisagreement compared with the runtime's: "interpreter", or
	// "onnxruntime-graph/" and the device where a cross-entropy pass of
	// the gradient graph was at the clean images. Empty where nothing was
	// compared (the interpreter classifies, or a black-box audit) and in
	// reports from before it was recorded (CleanSource reads those).
	// Shards compared with different engines list each.
	CleanLogits string    `json:"clean_logits,omitempty"`
	Results     []*Result `json:"results"`
	// Ensembles holds the AutoAttack results (an ensemble, or one of its
	// stages alone), one per ensemble and ε.
	Ensembles []*EnsembleResult `json:"ensembles,omitempty"`
	Checks    Checks            `json:"checks"`
	Settings  Settings          `json:"settings"`
	Seed      uint64            `json:"seed"`
	Shards    []Shard           `json:"shards"` // the data ranges covered
	Warnings  []string          `json:"warnings"`
	Classes   []string          `json:"classes,omitempty"`
	Examples  []*Example        `json:"-"`
}

// ModelInfo identifies the audited model.
type ModelInfo struct {
	Path       string  `json:"path"`
	SHA256     string  `json:"sha256"`
	Opset      int64   `json:"opset"`
	Input      string  `json:"input"`
	InputShape []int64 `json:"input_shape"` // -1 for a dynamic axis
}

// Settings are the run's options that shape its numbers.
type Settings struct {
	Batch      int       `json:"batch"`
	InputScale float32   `json:"input_scale"`
	Mean       []float32 `json:"mean,omitempty"`
	Std        []float32 `json:"std,omitempty"`
	Limit      int       `json:"limit,omitempty"`
	// Layout is the model input's; absent for NCHW. The pixels, ε and
	// the adversarial images are N×C×H×W either way.
	Layout dataset.Layout `json:"layout,omitempty"`
}

// samePreprocessing says whether s and o map pixels to the model's input
// alike: the settings that make two audits' figures comparable.
func (s Settings) samePreprocessing(o Settings) bool {
	return s.InputScale == o.InputScale && slices.Equal(s.Mean, o.Mean) && slices.Equal(s.Std, o.Std) && s.Layout == o.Layout
}

// Shard is one contiguous range of the data, [Start, End) by sample index,
// and which of how many shards it was.
type Shard struct {
	Index int `json:"index"` // 0-based
	Of    int `json:"of"`    // 0 or 1 for an unsharded run
	Start int `json:"start"`
	End   int `json:"end"`
}

// Result is one attack at one ε.
type Result struct {
	Config
	Samples  int     `json:"samples"`
	Correct  int     `json:"correct"`
	Accuracy float64 `json:"accuracy"`
	// Eligible counts the samples the attack could succeed on: those
	// classified correctly when clean (and, when targeted, not skipped
	// because their label is the target).
	Eligible    int     `json:"eligible"`
	Successes   int     `json:"successes"`
	SuccessRate float64 `json:"success_rate"`
	// Skipped counts samples a targeted attack left alone because their
	// label is the target.
	Skipped int `json:"skipped,omitempty"`
	// CrossChecked counts adversarial images the interpreter classified
	// besides the runtime: all of them with AuditOptions.CrossCheck, none
	// otherwise (the runtime alone classifies them, and the interpreter
	// runs only the attack's gradient passes). Disagreements counts those
	// the two classify differently; RuntimeDisagreement is their share.
	CrossChecked        int          `json:"cross_checked"`
	Disagreements       int          `json:"disagreements"`
	RuntimeDisagreement float64      `json:"runtime_disagreement"`
	LinfMean            float64      `json:"linf_mean"`
	LinfMax             float64      `json:"linf_max"`
	L2Mean              float64      `json:"l2_mean"`
	L2Max               float64      `json:"l2_max"`
	LinfSum             float64      `json:"linf_sum"`
	L2Sum               float64      `json:"l2_sum"`
	PerClass            []ClassCount `json:"per_class"`
}

// Example is one sample's clean and adversarial images, for pictures.
type Example struct {
	Index      int
	Attack     string
	Eps        float64
	Label      int
	CleanPred  int
	AdvPred    int
	Clean, Adv []float32 // C×H×W pixels
	C, H, W    int
	Perturbed  bool
}

func rate(num, den int) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// finish derives every rate and mean from the counts and sums.
func (r *Report) finish() {
	r.CleanAccuracy = rate(r.CleanCorrect, r.Samples)
	finishClasses(r.CleanPerClass)
	for _, res := range r.Results {
		res.Accuracy = rate(res.Correct, res.Samples)
		res.SuccessRate = rate(res.Successes, res.Eligible)
		res.RuntimeDisagreement = rate(res.Disagreements, res.CrossChecked)
		if res.Samples > 0 {
			res.LinfMean = res.LinfSum / float64(res.Samples)
			res.L2Mean = res.L2Sum / float64(res.Samples)
		}
		finishClasses(res.PerClass)
	}
	for _, res := range r.Ensembles {
		res.finish()
	}
	r.Warnings = r.sanity()
}

func finishClasses(pc []ClassCount) {
	for i := range pc {
		pc[i].Accuracy = rate(pc[i].Correct, pc[i].Samples)
	}
}

// WorstAccuracy returns the lowest accuracy over clean, every attack and
// every ensemble.
func (r *Report) WorstAccuracy() float64 {
	w := r.CleanAccuracy
	for _, res := range r.Results {
		w = min(w, res.Accuracy)
	}
	for _, res := range r.Ensembles {
		w = min(w, res.Accuracy)
	}
	return w
}

// sanity returns the warnings that point at gradient masking or a broken
// setup: an iterative attack doing worse than FGSM at the same ε, accuracy
// rising with ε, and accuracy far from zero at a large ε.
func (r *Report) sanity() []string {
	var w []string
	// Allow a sample or 0.5% of slack for ties and float noise.
	slack := func(n int) int { return max(1, n/200) }
	fgsm := map[float64]*Result{}
	for _, res := range r.Results {
		if res.Method == FGSM && res.Target.Mode == "" {
			fgsm[res.Eps] = res
		}
	}
	for _, res := range r.Results {
		if f := fgsm[res.Eps]; f != nil && res != f && res.Target.Mode == "" && res.Correct > f.Correct+slack(res.Samples) {
			w = append(w, fmt.Sprintf("%s leaves accuracy at %.2f%%, above FGSM's %.2f%% at the same ε: an iterative attack should be at least as strong, so the gradients may be masked or the attack misconfigured",
				res.Name(), 100*res.Accuracy, 100*f.Accuracy))
		}
	}
	// The same attack at several budgets (Config.Family, as the report's
	// plot groups them), in the order the results came.
	byAttack := map[Config][]*Result{}
	var families []Config
	for _, res := range r.Results {
		key := res.Config.Family()
		if _, ok := byAttack[key]; !ok {
			families = append(families, key)
		}
		byAttack[key] = append(byAttack[key], res)
	}
	for _, k := range families {
		rs := append([]*Result(nil), byAttack[k]...)
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].Eps < rs[j].Eps })
		for i := 1; i < len(rs); i++ {
			if rs[i].Target.Mode == "" && rs[i].Correct > rs[i-1].Correct+slack(rs[i].Samples) {
				w = append(w, fmt.Sprintf("%s: accuracy rises from %.2f%% at ε=%g to %.2f%% at ε=%g; a larger budget should never help the model, which points at gradient masking",
					rs[i].Method, 100*rs[i-1].Accuracy, rs[i-1].Eps, 100*rs[i].Accuracy, rs[i].Eps))
			}
		}
	}
	for _, res := range r.Results {
		if res.Target.Mode == "" && res.Correct > r.CleanCorrect+slack(r.Samples) {
			w = append(w, fmt.Sprintf("%s leaves accuracy at %.2f%%, above the clean %.2f%%: an attack should never help, so the model masks its gradients (a sign of FGSM training's label leaking or catastrophic overfitting); trust the strongest iterative attack",
				res.Name(), 100*res.Accuracy, 100*rate(r.CleanCorrect, r.Samples)))
		}
	}
	for _, res := range r.Results {
		if res.Target.Mode == "" && res.Eps >= 0.3 && res.Method != FGSM && res.Accuracy > 0.1 {
			w = append(w, fmt.Sprintf("%s keeps %.2f%% accuracy; at so large an ε an iterative attack should drive accuracy near zero, which points at gradient masking or a broken setup",
				res.Name(), 100*res.Accuracy))
		}
	}
	if r.Samples > 0 && r.CleanDisagreement > slack(r.Samples) {
		w = append(w, r.cleanWarning())
	}
	return append(w, r.ensembleWarnings(slack)...)
}

// norms returns the L∞ and L2 norms of the perturbation adv − clean.
func norms(adv, clean []float32) (linf, l2 float64) {
	for i, v := range adv {
		d := float64(v - clean[i])
		linf = math.Max(linf, math.Abs(d))
		l2 += d * d
	}
	return linf, math.Sqrt(l2)
}

// ClassCount is the accuracy on one class.
type ClassCount = runtime.ClassAccuracy
