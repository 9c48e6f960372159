package harden

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// Defaults of the surrogate-loss recipes (trades, mart), their papers':
// β = 6 and K = 10 steps of ε/4 from a start 0.001·N(0,1) away from x.
const (
	DefaultBeta       = 6.0
	DefaultInnerSteps = 10
	startSigma        = 0.001
)

// normalizeInner fills in and checks the inner maximisation's settings:
// K (PGDSteps) 7 for pgd, 10 for trades and mart; β 6 for trades and mart.
func (c *Config) normalizeInner() error {
	switch c.Recipe {
	case PGD:
		c.PGDSteps = defaultInt(c.PGDSteps, DefaultPGDSteps)
	case TRADES, MART:
		c.PGDSteps = defaultInt(c.PGDSteps, DefaultInnerSteps)
	default:
		if c.PGDSteps != 0 {
			return fmt.Errorf("pgd steps apply to the pgd, trades and mart recipes only, not %s", c.Recipe)
		}
	}
	if !c.Recipe.surrogate() {
		if c.Beta != 0 {
			return fmt.Errorf("beta applies to the trades and mart recipes only, not %s", c.Recipe)
		}
		return nil
	}
	if c.Beta < 0 || math.IsNaN(c.Beta) || math.IsInf(c.Beta, 0) {
		return fmt.Errorf("beta %g must be a finite number ≥ 0: the weight of the KL term (%g in the papers)", c.Beta, DefaultBeta)
	}
	c.Beta = defaultFloat(c.Beta, DefaultBeta)
	return nil
}

// surrogate reports whether the recipe trains on a loss of the clean and
// the adversarial logits together (trades, mart).
func (r Recipe) surrogate() bool { return r == TRADES || r == MART }

// surrogateStep is one step of trades or mart on the clean batch x, y: the
// inner maximisation with the model in inference mode, then one training
// pass over [x; x_adv] whose loss, t.want.Loss, reads both halves' logits, so
// the weight gradient flows through the clean pass and the adversarial
// one. Like the paper recipe's 2B batch, training-mode BatchNorm
// normalizes the two halves together. It returns the loss, the number of
// the 2B rows classified correctly before the update, and 2B.
func (t *trainer) surrogateStep(x []float32, y []int, seed uint64, lr float64) (loss float64, correct, n int, err error) {
	adv, err := t.innerMax(x, y, seed)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("crafting the training examples: %w", err)
	}
	t.xs = append(append(t.xs[:0], x...), adv...)
	t.ys = append(append(t.ys[:0], y...), y...)
	loss, correct, err = t.step(t.xs, t.ys, seed, lr, nil)
	return loss, correct, len(t.ys), err
}

// innerMax returns the adversarial batch: K signed-gradient steps of α =
// ε/4 from x + 0.001·N(0,1), each projected onto the ε-ball around x and
// onto [0,1]. trades ascends KL(p(x) ‖ p(x_adv)) with p(x) fixed, mart the
// cross-entropy, as their reference implementations do.
func (t *trainer) innerMax(x []float32, y []int, seed uint64) ([]float32, error) {
	m, n := t.model, len(y)
	eps, alpha := float32(t.cfg.Eps), float32(t.cfg.Eps/4)
	rng := rand.New(rand.NewPCG(seed, 0x74726164))
	t.adv = append(t.adv[:0], x...)
	for j, v := range t.adv {
		v += float32(startSigma * rng.NormFloat64())
		t.adv[j] = min(max(v, x[j]-eps, 0), x[j]+eps, 1)
	}
	var loss fgsm.SampleLoss
	if t.cfg.Recipe == TRADES {
		var k int
		var err error
		if t.logits, k, err = m.Logits(t.logits, x, n); err != nil {
			return nil, err
		}
		t.pClean = softmaxRows(t.pClean, t.logits, k)
		p := t.pClean
		loss = func(dRow, row []float32, _, i int) float64 {
			return klRowGrads(nil, dRow, p[i*k:(i+1)*k], row)
		}
	}
	t.grad = grow(t.grad, len(x))
	for range t.cfg.PGDSteps {
		var err error
		if loss != nil {
			t.logits, _, err = m.LossGrad(t.grad, t.logits, t.adv, y, n, loss)
		} else {
			t.logits, _, err = m.Grad(t.grad, t.logits, t.adv, y, n)
		}
		if err != nil {
			return nil, err
		}
		pixelStep(t.adv, x, t.grad, alpha, eps)
	}
	return t.adv, nil
}

// softmaxRows sets dst to the softmax of each row of k logits, in float64.
func softmaxRows(dst []float64, logits []float32, k int) []float64 {
	dst = dst[:0]
	for lo := 0; lo < len(logits); lo += k {
		row := logits[lo : lo+k]
		lse := interp.LogSumExp(row)
		for _, v := range row {
			dst = append(dst, math.Exp(float64(v)-lse))
		}
	}
	return dst
}

// klRowGrads returns KL(p ‖ q) for q = softmax(b) and the target
// distribution p = softmax(a) of the clean logits a, adding to dB its
// gradient with respect to b, q − p, and, when dA is not nil, to dA the
// one with respect to a, p·(log p − log q − KL). It allocates nothing, as
// the inner maximisation calls it for every row at every step.
func klRowGrads(dA, dB []float32, p []float64, b []float32) float64 {
	lseB := interp.LogSumExp(b)
	var kl float64
	for j, v := range b {
		if p[j] > 0 {
			kl += p[j] * (math.Log(p[j]) - (float64(v) - lseB))
		}
	}
	for j, v := range b {
		logQ := float64(v) - lseB
		dB[j] += float32(math.Exp(logQ) - p[j])
		if dA != nil && p[j] > 0 {
			dA[j] += float32(p[j] * (math.Log(p[j]) - logQ - kl))
		}
	}
	return kl
}

// TRADESLoss is the outer loss of TRADES (Zhang et al. 2019, eq. 5) on a
// batch of 2B logits, the B clean rows first and their B adversarial rows
// after: the mean over the B samples of CE(f(x), y) + β·KL(p(x) ‖
// p(x_adv)), with its gradient with respect to every row.
func TRADESLoss(beta float64) interp.LossFunc {
	return pairedLoss(func(dA, dB, a, b []float32, y int) float64 {
		p := softmaxRows(nil, a, len(a))
		ce := -math.Log(max(p[y], 1e-300))
		for j := range a {
			dA[j] = float32(p[j])
		}
		dA[y]--
		kl := scaledKL(dA, dB, p, b, beta)
		return ce + beta*kl
	})
}

// scaledKL adds β times KL(p ‖ softmax(b))'s gradients to dA and dB and
// returns the KL.
func scaledKL(dA, dB []float32, p []float64, b []float32, beta float64) float64 {
	ga, gb := make([]float32, len(b)), make([]float32, len(b))
	kl := klRowGrads(ga, gb, p, b)
	for j := range b {
		dA[j] += float32(beta) * ga[j]
		dB[j] += float32(beta) * gb[j]
	}
	return kl
}

// pairedLoss turns a loss of one sample's clean row a and adversarial row b
// (writing its gradients into dA and dB, zeroed beforehand) into a batch
// loss on [clean; adversarial] logits: the mean over the samples.
func pairedLoss(row func(dA, dB, a, b []float32, y int) float64) interp.LossFunc {
	return func(logits *interp.Tensor, labels []int) (float64, *interp.Tensor, error) {
		if logits == nil || logits.IsInt() || len(logits.Shape) != 2 || logits.Shape[0]%2 != 0 || len(labels) != logits.Shape[0] {
			return 0, nil, fmt.Errorf("the clean-and-adversarial loss needs 2B×K float logits and 2B labels, got %v and %d labels", logits, len(labels))
		}
		n, k := logits.Shape[0]/2, logits.Shape[1]
		d := &interp.Tensor{Shape: []int{2 * n, k}, Data: make([]float32, 2*n*k)}
		var total float64
		for i := range n {
			a, b := logits.Data[i*k:(i+1)*k], logits.Data[(n+i)*k:(n+i+1)*k]
			total += row(d.Data[i*k:(i+1)*k], d.Data[(n+i)*k:(n+i+1)*k], a, b, labels[i])
		}
		inv := float32(1 / float64(n))
		for j := range d.Data {
			d.Data[j] *= inv
		}
		return total / float64(n), d, nil
	}
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
