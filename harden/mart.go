package harden

import (
	"math"

	"github.com/onnxguard/onnxguard/runtime/interp"
)

// MARTLoss is the outer loss of MART (Wang et al. 2020, eq. 10) on a batch
// of 2B logits, the B clean rows first and their B adversarial rows
// after: the mean over the B samples of
//
//	BCE(p(x_adv), y) + β·KL(p(x) ‖ p(x_adv))·(1 − p_y(x)),
//
// where BCE(q, y) = −log q_y − log(1 − max_{k≠y} q_k) is the boosted
// cross-entropy, with its gradient with respect to every row: through
// the clean row's KL target and weight as well as the adversarial row.
func MARTLoss(beta float64) interp.LossFunc {
	return pairedLoss(func(dA, dB, a, b []float32, y int) float64 {
		p := softmaxRows(nil, a, len(a))
		q := softmaxRows(nil, b, len(b))
		m := -1
		for j := range q {
			if j != y && (m < 0 || q[j] > q[m]) {
				m = j
			}
		}
		rest := max(1-q[m], 1e-12)
		bce := -math.Log(max(q[y], 1e-300)) - math.Log(rest)
		for j := range b {
			g := q[j]
			if j == y {
				g--
			}
			dm := -q[m] * q[j]
			if j == m {
				dm += q[m]
			}
			dB[j] = float32(g + dm/rest)
		}
		w := 1 - p[y]
		ga, gb := make([]float32, len(b)), make([]float32, len(b))
		kl := klRowGrads(ga, gb, p, b)
		for j := range a {
			dpy := -p[y] * p[j]
			if j == y {
				dpy += p[y]
			}
			dA[j] = float32(beta * (w*float64(ga[j]) - kl*dpy))
			dB[j] += float32(beta * w * float64(gb[j]))
		}
		return bce + beta*kl*w
	})
}
