package harden

import (
	"math"
	"testing"
)

// TestOptimizerSteps checks two steps of each optimizer on one weight
// against values worked out by hand from the update rules.
func TestOptimizerSteps(t *testing.T) {
	for _, test := range []struct {
		name  string
		opt   Optimizer
		lr    float64
		grads []float32 // one per step
		want  []float64 // the weight after each step, starting from 1
	}{
		// d = g + λw; v = μv + d; w -= lr·v
		// step 1: d = 0.51, v = 0.51, w = 0.949
		// step 2: d = 0.5 + 0.00949, v = 0.459 + 0.50949 = 0.96849, w = 0.852151
		{"sgd momentum+decay", &SGDM{Momentum: 0.9, WeightDecay: 0.01}, 0.1, []float32{0.5, 0.5}, []float64{0.949, 0.852151}},
		// plain SGD: w -= lr·g
		{"sgd plain", &SGDM{}, 0.1, []float32{0.5, -1}, []float64{0.95, 1.05}},
		// Adam's first step is lr·sign(g): m̂ = g, v̂ = g².
		// step 2, g = -0.5: m = 0.045 − 0.05 = −0.005, v = 0.00024975 + 0.00025,
		// m̂ = −0.005/0.19, v̂ = 0.00049975/0.001999 = 0.25: w = 0.9 + 0.1·0.0263158/0.5
		{"adam", NewAdamW(0), 0.1, []float32{0.5, -0.5}, []float64{0.9, 0.90526316}},
		// decoupled decay first shrinks w by 1 − lr·λ = 0.99, then the Adam step
		// step 2: 0.89·0.99 = 0.8811, + 0.00526316
		{"adamw", NewAdamW(0.1), 0.1, []float32{0.5, -0.5}, []float64{0.89, 0.88636316}},
	} {
		w := []float32{1}
		frozen := []float32{3} // no gradient: must not move
		for i, g := range test.grads {
			test.opt.Step([][]float32{w, frozen}, [][]float32{{g}, nil}, test.lr)
			if math.Abs(float64(w[0])-test.want[i]) > 1e-6 {
				t.Errorf("%s: after step %d w = %.8f, want %.8f", test.name, i+1, w[0], test.want[i])
			}
		}
		if frozen[0] != 3 {
			t.Errorf("%s: a weight without a gradient moved to %g", test.name, frozen[0])
		}
	}
}

func TestLRAt(t *testing.T) {
	for _, test := range []struct {
		cfg  Config
		want []float64
	}{
		{Config{Recipe: Clean, LR: 0.1, Epochs: 3}, []float64{0.1, 0.1, 0.1}},
		{Config{Recipe: Clean, LR: 0.1, Epochs: 5, Schedule: Step, StepEvery: 2, StepFactor: 0.5}, []float64{0.1, 0.1, 0.05, 0.05, 0.025}},
		{Config{Recipe: Clean, LR: 0.1, Epochs: 6, Schedule: Step}, []float64{0.1, 0.1, 0.01, 0.01, 0.001, 0.001}}, // every 6/3 = 2, ×0.1
		{Config{Recipe: Clean, LR: 0.1, Epochs: 4, Schedule: Cosine}, []float64{0.1, 0.0853553, 0.05, 0.0146447}},
	} {
		cfg, err := test.cfg.Normalize()
		if err != nil {
			t.Fatal(err)
		}
		for e, want := range test.want {
			if got := cfg.LRAt(e); math.Abs(got-want) > 1e-7 {
				t.Errorf("%s schedule, epoch %d: lr %g, want %g", cfg.Schedule, e, got, want)
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	cfg, err := Config{Recipe: Paper, Eps: 0.1}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Recipe: Paper, Eps: 0.1, Epochs: DefaultEpochs, Batch: DefaultBatch, Optimizer: Adam, LR: DefaultAdamLR, Schedule: Constant, BN: BNTrain,
		Probe: ProbeAPGD, ProbeSteps: DefaultAPGDProbeSteps, ProbeTargets: DefaultProbeTargets, ProbeSamples: DefaultProbeSamples}
	if cfg != want {
		t.Errorf("defaults: got %+v, want %+v", cfg, want)
	}
	if cfg, _ := (Config{Recipe: PGD, Eps: 0.1, Optimizer: "SGD"}).Normalize(); cfg.PGDSteps != 7 || cfg.LR != DefaultSGDLR || cfg.Momentum != DefaultMomentum {
		t.Errorf("pgd with sgd: got %+v, want 7 steps, lr %g, momentum %g", cfg, DefaultSGDLR, DefaultMomentum)
	}
	for r, gamma := range map[Recipe]float64{PGD: DefaultAWPGammaPGD, TRADES: DefaultAWPGammaTRADES} {
		if cfg, err := (Config{Recipe: r, Eps: 0.1, AWP: true}).Normalize(); err != nil || cfg.AWPGamma != gamma {
			t.Errorf("%s with AWP: γ %g (%v), want %g", r, cfg.AWPGamma, err, gamma)
		}
	}
	for _, r := range []Recipe{TRADES, MART} {
		if cfg, _ := (Config{Recipe: r, Eps: 0.1}).Normalize(); cfg.PGDSteps != DefaultInnerSteps || cfg.Beta != DefaultBeta {
			t.Errorf("%s: got %+v, want %d steps, β %g", r, cfg, DefaultInnerSteps, DefaultBeta)
		}
	}
	for i, bad := range []Config{
		{Recipe: "madry", Eps: 0.1},
		{Recipe: Paper},            // adversarial recipes need eps
		{Recipe: FGSMRS, Eps: 1.5}, // eps is a pixel-space radius
		{Recipe: Clean, Optimizer: "lbfgs"},
		{Recipe: Clean, Schedule: "linear"},
		{Recipe: Clean, Schedule: Cosine, StepEvery: 2},
		{Recipe: Clean, BN: "eval"},
		{Recipe: Clean, ValSplit: 1},
		{Recipe: Clean, Momentum: 0.9}, // Adam has no momentum setting
		{Recipe: Paper, Eps: 0.1, PGDSteps: 3},
		{Recipe: PGD, Eps: 0.1, Beta: 6},
		{Recipe: TRADES, Eps: 0.1, Beta: -1},
		{Recipe: MART, Eps: 0.1, Beta: math.NaN()},
		{Recipe: Clean, ProbeSteps: 3}, // the probe is for adversarial recipes
		{Recipe: Clean, Patience: 2},
		{Recipe: PGD, Eps: 0.1, Probe: "square"},
		{Recipe: PGD, Eps: 0.1, Probe: ProbePGD, ProbeTargets: 2},
		{Recipe: PGD, Eps: 0.1, Patience: -1},
		{Recipe: MART, Eps: 0.1, AWP: true},
		{Recipe: PGD, Eps: 0.1, AWPGamma: 0.01}, // gamma without AWP
		{Recipe: TRADES, Eps: 0.1, AWP: true, AWPGamma: 2},
		{Recipe: Clean, Epochs: -1},
		{Recipe: Paper, Eps: math.NaN()},
		{Recipe: Clean, Eps: math.NaN()},
		{Recipe: Clean, LR: math.NaN()},
		{Recipe: Clean, LR: math.Inf(1)},
		{Recipe: Clean, Optimizer: SGD, Momentum: math.NaN()},
		{Recipe: Clean, WeightDecay: math.NaN()},
		{Recipe: Clean, Schedule: Step, StepFactor: math.NaN()},
	} {
		if _, err := bad.Normalize(); err == nil {
			t.Errorf("case %d %+v: no error", i, bad)
		}
	}
}
