package harden

import (
	"fmt"
	"math"
	"strings"
)

// Recipe names a way of training.
type Recipe string

// The recipes; see the package documentation.
const (
	Paper  Recipe = "paper"   // the seed paper's Algorithm 2: train on [x; FGSM(x)]
	FGSMRS Recipe = "fgsm-rs" // fast adversarial training: FGSM from a random start
	PGD    Recipe = "pgd"     // Madry et al.: train on K-step PGD examples
	Clean  Recipe = "clean"   // plain training, no adversarial examples
	TRADES Recipe = "trades"  // Zhang et al. 2019: CE(clean) + β·KL(clean‖adv), the adversary maximising the KL
	MART   Recipe = "mart"    // Wang et al. 2020: boosted CE(adv) + β·KL(clean‖adv)·(1 − p_y(clean))
)

// Recipes lists the recipes in the order help texts show them.
var Recipes = []Recipe{Paper, FGSMRS, PGD, TRADES, MART, Clean}

// ParseRecipe reads a recipe name, case-insensitively.
func ParseRecipe(s string) (Recipe, error) {
	r := Recipe(strings.ToLower(strings.TrimSpace(s)))
	for _, k := range Recipes {
		if r == k {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown recipe %q: choose paper, fgsm-rs, pgd, trades, mart or clean", s)
}

// Adversarial reports whether the recipe trains on adversarial examples.
func (r Recipe) Adversarial() bool { return r != Clean }

// Optimizer, schedule and BatchNorm policy names.
const (
	Adam = "adam"
	SGD  = "sgd"

	Constant = "constant"
	Step     = "step"
	Cosine   = "cosine"

	BNTrain  = "train"
	BNFrozen = "frozen"
)

// Config is one training run's settings. Zero values take the defaults
// Normalize documents. Everything but CheckpointDir and StopAfter is part
// of what a checkpoint records, and Resume refuses a Config that differs.
type Config struct {
	Recipe Recipe  `json:"recipe"`
	Eps    float64 `json:"eps"` // L∞ radius in pixel space [0,1]: the attack trained against and measured
	Epochs int     `json:"epochs"`
	Batch  int     `json:"batch"` // clean samples per step; the paper recipe trains on twice as many

	Optimizer   string  `json:"optimizer"` // "adam" or "sgd"
	LR          float64 `json:"lr"`
	Momentum    float64 `json:"momentum,omitempty"`     // SGD's
	WeightDecay float64 `json:"weight_decay,omitempty"` // decoupled for Adam (AdamW), L2 for SGD

	Schedule   string  `json:"schedule"`              // "constant", "step" or "cosine"
	StepEvery  int     `json:"step_every,omitempty"`  // step: epochs between decays
	StepFactor float64 `json:"step_factor,omitempty"` // step: the factor applied each time

	BN string `json:"bn"` // BatchNormalization while training: "train" or "frozen"

	// ValSplit is the fraction of the training data held out for
	// validation when no separate validation data is given.
	ValSplit float64 `json:"val_split,omitempty"`

	PGDSteps     int `json:"pgd_steps,omitempty"`     // pgd, trades and mart recipes: K, the inner maximisation's steps
	ProbeSteps   int `json:"probe_steps,omitempty"`   // adversarial recipes: iterations of each probe stage after each epoch
	ProbeSamples int `json:"probe_samples,omitempty"` // adversarial recipes: validation samples the probe attacks

	Beta float64 `json:"beta,omitempty"` // trades and mart: β, the weight of the KL term

	// Probe is the attack that ranks the adversarial recipes' epochs;
	// ProbeTargets its APGD-T target classes; Patience, when positive,
	// stops the run after that many epochs below the best (aaselect.go).
	Probe        string `json:"probe,omitempty"`
	ProbeTargets int    `json:"probe_targets,omitempty"`
	Patience     int    `json:"patience,omitempty"`

	// AWP adds adversarial weight perturbation to pgd or trades, from
	// epoch AWPWarmup+1 on, of relative size AWPGamma (awp.go).
	AWP       bool    `json:"awp,omitempty"`
	AWPGamma  float64 `json:"awp_gamma,omitempty"`
	AWPWarmup int     `json:"awp_warmup,omitempty"`

	Seed uint64 `json:"seed"`

	// ModelSHA256 is the digest of the model file being trained
	// (onnx.Model.SHA256), recorded so that a resume on another model
	// fails; optional, as the checkpoint also records a digest of the
	// program's starting weights.
	ModelSHA256 string `json:"model_sha256,omitempty"`

	// CheckpointDir, when set, receives checkpoint.gob and history.json
	// after every epoch.
	CheckpointDir string `json:"-"`
	// StopAfter, when positive, ends this call after that many epochs
	// (counted from the start of the run, not of this call) as if
	// interrupted there; Resume continues. For time-boxed jobs and tests.
	StopAfter int `json:"-"`
}

// Defaults that Normalize fills in.
const (
	DefaultEpochs       = 5
	DefaultBatch        = 64
	DefaultAdamLR       = 1e-3
	DefaultSGDLR        = 0.01
	DefaultMomentum     = 0.9
	DefaultStepFactor   = 0.1
	DefaultPGDSteps     = 7
	DefaultProbeSteps   = 10
	DefaultProbeSamples = 512
)

// Normalize fills in defaults and checks the settings:
//
//   - Eps must be in (0, 1] for the adversarial recipes; for clean, 0
//     means no FGSM accuracy is measured.
//   - Epochs 5, Batch 64, Optimizer adam, Schedule constant, BN train.
//   - LR 1e-3 for Adam, 0.01 for SGD; Momentum 0.9 for SGD (Adam has none).
//   - The step schedule multiplies the rate by StepFactor (0.1) every
//     StepEvery epochs (by default a third of the epochs, at least 1).
//   - PGDSteps 7 for the pgd recipe (step α = 2.5·ε/K), 10 for trades and
//     mart (α = ε/4), β 6; the probe apgd with ProbeSteps 20, ProbeTargets 3 and
//     ProbeSamples 512 for the adversarial recipes.
//   - ValSplit must be in [0, 1).
func (c Config) Normalize() (Config, error) {
	if _, err := ParseRecipe(string(c.Recipe)); err != nil {
		return c, err
	}
	for _, v := range []float64{c.Eps, c.LR, c.Momentum, c.WeightDecay, c.StepFactor, c.ValSplit} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return c, fmt.Errorf("eps %g, lr %g, momentum %g, weight decay %g, step factor %g and val split %g must be finite numbers",
				c.Eps, c.LR, c.Momentum, c.WeightDecay, c.StepFactor, c.ValSplit)
		}
	}
	switch {
	case c.Recipe.Adversarial() && (c.Eps <= 0 || c.Eps > 1):
		return c, fmt.Errorf("recipe %s: eps %g must be in (0, 1]; it is an L∞ radius in pixel space [0,1] (0.1 for MNIST-like data, 8/255 for CIFAR-10)", c.Recipe, c.Eps)
	case c.Eps < 0 || c.Eps > 1:
		return c, fmt.Errorf("eps %g must be in [0, 1]; 0 measures no FGSM accuracy", c.Eps)
	case c.Epochs < 0 || c.Batch < 0 || c.LR < 0 || c.Momentum < 0 || c.WeightDecay < 0 ||
		c.StepEvery < 0 || c.StepFactor < 0 || c.PGDSteps < 0 || c.ProbeSteps < 0 || c.ProbeSamples < 0:
		return c, fmt.Errorf("epochs, batch, lr, momentum, weight decay, step settings, pgd steps and probe settings must not be negative")
	case c.ValSplit < 0 || c.ValSplit >= 1 || math.IsNaN(c.ValSplit):
		return c, fmt.Errorf("val split %g must be in [0, 1): the fraction of the training data held out", c.ValSplit)
	}
	c.Epochs = defaultInt(c.Epochs, DefaultEpochs)
	c.Batch = defaultInt(c.Batch, DefaultBatch)
	c.Optimizer = strings.ToLower(c.Optimizer)
	switch c.Optimizer {
	case "", Adam:
		c.Optimizer = Adam
		if c.Momentum != 0 {
			return c, fmt.Errorf("momentum %g applies to sgd only; Adam's β1 is fixed at 0.9", c.Momentum)
		}
		c.LR = defaultFloat(c.LR, DefaultAdamLR)
	case SGD:
		c.LR = defaultFloat(c.LR, DefaultSGDLR)
		c.Momentum = defaultFloat(c.Momentum, DefaultMomentum)
	default:
		return c, fmt.Errorf("unknown optimizer %q: choose adam or sgd", c.Optimizer)
	}
	c.Schedule = strings.ToLower(c.Schedule)
	switch c.Schedule {
	case "", Constant, Cosine:
		if c.Schedule == "" {
			c.Schedule = Constant
		}
		if c.StepEvery != 0 || c.StepFactor != 0 {
			return c, fmt.Errorf("step every and step factor apply to the step schedule only, not %s", c.Schedule)
		}
	case Step:
		c.StepEvery = defaultInt(c.StepEvery, max(1, c.Epochs/3))
		c.StepFactor = defaultFloat(c.StepFactor, DefaultStepFactor)
	default:
		return c, fmt.Errorf("unknown schedule %q: choose constant, step or cosine", c.Schedule)
	}
	c.BN = strings.ToLower(c.BN)
	switch c.BN {
	case "":
		c.BN = BNTrain
	case BNTrain, BNFrozen:
	default:
		return c, fmt.Errorf("unknown BatchNorm policy %q: choose train (batch statistics, running statistics updated) or frozen (running statistics used and kept)", c.BN)
	}
	if err := c.normalizeInner(); err != nil {
		return c, err
	}
	if err := c.normalizeAWP(); err != nil {
		return c, err
	}
	return c, c.normalizeProbe()
}

// LRAt returns the learning rate of epoch e (0-based) of a normalized
// Config. The rate is set at the start of each epoch and held through it:
// constant keeps LR; step multiplies it by StepFactor every StepEvery
// epochs; cosine follows LR·(1+cos(π·e/Epochs))/2, from LR at the first
// epoch down toward 0 at the end.
func (c Config) LRAt(e int) float64 {
	switch c.Schedule {
	case Step:
		return c.LR * math.Pow(c.StepFactor, float64(e/c.StepEvery))
	case Cosine:
		return c.LR * (1 + math.Cos(math.Pi*float64(e)/float64(c.Epochs))) / 2
	}
	return c.LR
}

// comparable returns the settings a checkpoint must agree on.
func (c Config) comparable() Config {
	c.CheckpointDir, c.StopAfter = "", 0
	return c
}

func defaultInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func defaultFloat(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}
