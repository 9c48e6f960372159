package fgsm

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
)

// A StageFunc is one attack of an ensemble such as AutoAttack (APGD-CE,
// APGD-T, FAB-T, Square). It attacks the samples of x (N×C×H×W pixels in
// [0,1], n = len(labels)); idx[i] is sample i's index in the data, which
// seeds that sample's randomness (SampleRand), so that shards and batch
// sizes do not change results. The ensemble runs a stage only on the
// samples still robust and re-checks every adversarial example on the
// deployed model (env.Score) itself.
type StageFunc func(ctx context.Context, env *StageEnv, x []float32, labels, idx []int) (*StageResult, error)

// StageEnv is what a stage may use.
type StageEnv struct {
	// Attacker gives gradients through the interpreter (Attacker.M's Grad,
	// LossGrad and Logits). It is nil when the interpreter cannot run the
	// model; then only black-box stages (Square) can run.
	Attacker *Attacker
	// Score gives the deployed model's logits for pixels (ONNX Runtime
	// with the model's preprocessing); black-box stages query it alone.
	Score   Scorer
	Classes int // K, the number of classes the model scores
	C, H, W int // one sample's shape

	Norm Norm
	Eps  float64 // the budget, in Norm, in pixel space [0,1]
	Seed uint64

	// Zero values mean each stage's own default (the reference
	// implementation's): Iters is iterations (queries for Square),
	// Restarts the runs per sample keeping the worst case, Targets the
	// target classes of a targeted stage, EOT the gradient draws averaged
	// per step for randomised models (autoattack-rand).
	Iters, Restarts, Targets, EOT int

	// Progress, when set, is told how many of this stage's samples are
	// finished; it may be called often.
	Progress func(done, total int)
}

// StageResult is what a stage did to its samples.
type StageResult struct {
	// Adv holds the adversarial pixels, len(x) values: every sample within
	// Eps of x in Norm and in [0,1]. A sample the stage did not break may
	// hold its best try or the clean image.
	Adv []float32
	// MinLinf and MinL2 are, per sample, the norms of the smallest
	// perturbation found that changes the class (a minimum-norm attack
	// such as FAB measures them whatever Eps), +Inf where none was found;
	// nil when the stage does not measure them.
	MinLinf, MinL2 []float64
	// Queries is, per sample, the model queries spent (black-box
	// stages); nil otherwise.
	Queries []int
}

var stages = map[string]StageFunc{}

// needsGradients is the error of an attack (a stage, or a fixed-step
// method) asked to run without the interpreter.
func needsGradients(attack string) error {
	return fmt.Errorf("%s needs gradients, and the interpreter cannot run this model: only the black-box square attack can audit it", attack)
}

// registerStage makes f available to ensembles under name; each stage's
// file registers itself in its init.
func registerStage(name string, f StageFunc) {
	if _, dup := stages[name]; dup {
		panic(fmt.Sprintf("fgsm: stage %q registered twice", name))
	}
	stages[name] = f
}

// Stage returns the registered stage name.
func Stage(name string) (StageFunc, error) {
	f, ok := stages[name]
	if !ok {
		return nil, fmt.Errorf("unknown attack stage %q: choose one of %v", name, StageNames())
	}
	return f, nil
}

// StageNames lists the registered stages, sorted.
func StageNames() []string { return slices.Sorted(maps.Keys(stages)) }

// SampleRand returns the random stream of one sample (its index in the
// data) for one purpose (stream: a stage's own constant, times a restart
// number where it has restarts), so that results do not depend on
// batching or sharding.
func SampleRand(seed uint64, index int, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed^stream*0x9E3779B97F4A7C15, uint64(index)))
}

// rankTargets lists the classes other than label by decreasing logit, ties
// in class order: the targets of a targeted stage (APGD-T, FAB-T), most
// promising first.
func rankTargets(row []float32, label int) []int {
	out := make([]int, 0, len(row)-1)
	for c := range row {
		if c != label {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return row[out[a]] > row[out[b]] })
	return out
}
