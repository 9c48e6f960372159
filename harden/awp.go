package harden

import (
	"errors"
	"fmt"
	"math"

	"github.com/onnxguard/onnxguard/runtime/interp"
)

// Adversarial weight perturbation (Wu et al. 2020): each step computes its
// gradient not at the weights w but at w + v, where v perturbs every
// weight matrix and kernel (parameters of two or more dimensions) l up
// the training loss by γ relative to its norm,
//
//	v_l = γ·‖w_l‖·g_l/‖g_l‖,  g_l = ∇_{w_l} loss(x_adv) at w,
//
// then updates w (not w + v) with that gradient. It flattens the weight
// loss landscape around the adversarial examples and narrows the robust
// generalization gap.
const (
	DefaultAWPGammaPGD    = 0.01
	DefaultAWPGammaTRADES = 0.005
)

// ErrAWPOff is returned when AWP's gamma or warm-up is set with AWP off.
var ErrAWPOff = errors.New("awp gamma and warm-up apply only with AWP on")

// normalizeAWP checks the AWP settings and fills in γ: 0.01 on pgd, 0.005
// on trades, the paper's.
func (c *Config) normalizeAWP() error {
	if !c.AWP {
		if c.AWPGamma != 0 || c.AWPWarmup != 0 {
			return ErrAWPOff
		}
		return nil
	}
	switch c.Recipe {
	case PGD:
		c.AWPGamma = defaultFloat(c.AWPGamma, DefaultAWPGammaPGD)
	case TRADES:
		c.AWPGamma = defaultFloat(c.AWPGamma, DefaultAWPGammaTRADES)
	default:
		return fmt.Errorf("AWP runs on top of the pgd or trades recipe, not %s", c.Recipe)
	}
	if !(c.AWPGamma > 0 && c.AWPGamma < 1) || c.AWPWarmup < 0 {
		return fmt.Errorf("awp gamma %g must be in (0, 1) and warm-up %d epochs not negative", c.AWPGamma, c.AWPWarmup)
	}
	return nil
}

// awpActive reports whether the current epoch perturbs the weights: from
// epoch AWPWarmup+1 on.
func (t *trainer) awpActive() bool { return t.cfg.AWP && t.epoch >= t.cfg.AWPWarmup }

// awpPerturb adds v to the weights for the training pass on in: it runs
// the pass once at w, in the mode and with the Dropout masks of the
// training pass, for the gradient v follows; the BatchNorm running
// statistics that pass moved are put back. awpRestore undoes it, exactly.
func (t *trainer) awpPerturb(in *interp.Tensor, ys []int, seed uint64) error {
	if len(t.awpSaved) != len(t.params) {
		t.awpSaved = make([][]float32, len(t.params))
	}
	for i, p := range t.params {
		t.awpSaved[i] = append(t.awpSaved[i][:0], p.T.Data...)
	}
	t.prog.Reseed(seed)
	r, err := t.prog.Grad(in, ys, t.want)
	if err != nil {
		return fmt.Errorf("AWP's weight perturbation: %w", err)
	}
	for i, p := range t.params {
		g := r.Params[i]
		if len(p.T.Shape) < 2 || g == nil {
			copy(p.T.Data, t.awpSaved[i]) // running statistics, biases: as they were
			continue
		}
		scale := t.cfg.AWPGamma * norm2(t.awpSaved[i]) / (norm2(g.Data) + 1e-20)
		for j, gv := range g.Data {
			p.T.Data[j] = t.awpSaved[i][j] + float32(scale*float64(gv))
		}
	}
	r.Release()
	return nil
}

// awpRestore puts back the weights awpPerturb saved, all but the running
// statistics, which keep what the perturbed training pass made of them.
func (t *trainer) awpRestore() {
	for i, p := range t.params {
		if len(p.T.Shape) >= 2 {
			copy(p.T.Data, t.awpSaved[i])
		}
	}
}

func norm2(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}
