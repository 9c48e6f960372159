package fgsm

import (
	"math"
	"math/rand/v2"
)

// squareProposer draws Square's candidate points for one sample shape and
// budget: the initial point and, each iteration, a square changed at the
// boundary of the ε-ball (L∞: filled with ±ε; L2: a pair of opposite
// bumps that moves the mass of a second window into the first).
type squareProposer struct {
	norm    Norm
	eps     float64
	c, h, w int
	d, win  []float64         // L2 scratch: the perturbation, one window
	eta     map[int][]float64 // the L2 window pattern of each size
}

func newSquareProposer(env *StageEnv) *squareProposer {
	return &squareProposer{norm: env.Norm, eps: env.Eps, c: env.C, h: env.H, w: env.W, eta: map[int][]float64{}}
}

// init writes a sample's first point, the reference's: vertical stripes of
// ±ε (L∞), or a 5×5 grid of windows each filled with the L2 pattern of
// random sign per channel, scaled to norm ε (L2).
func (p *squareProposer) init(dst, x0 []float32, rng *rand.Rand) {
	if p.norm == Linf {
		eps := float32(p.eps)
		for ch := range p.c {
			for col := range p.w {
				e := eps * randSign(rng)
				for row := range p.h {
					j := (ch*p.h+row)*p.w + col
					dst[j] = clamp01(x0[j] + e)
				}
			}
		}
		return
	}
	d := p.scratch()
	s := max(p.h/5, 1)
	start := (p.h - 5*s) / 2
	for a := range p.h / s {
		for b := range p.w / s {
			vh, vw := start+a*s, start+b*s
			if vh+s > p.h || vw+s > p.w {
				continue
			}
			eta, tr := p.pattern(s), rng.IntN(2) == 1
			for ch := range p.c {
				sg := float64(randSign(rng))
				p.eachIn(ch, vh, vw, s, func(j, u, v int) { d[j] += sg * etaAt(eta, s, u, v, tr) })
			}
		}
	}
	p.writeL2(dst, x0, d)
}

// step writes a candidate from best, the sample's best point so far, for
// a square covering the fraction frac of the image.
func (p *squareProposer) step(dst, x0, best []float32, rng *rand.Rand, frac float64) {
	side := math.RoundToEven(math.Sqrt(frac * float64(p.h*p.w)))
	if p.norm == Linf {
		s := min(max(int(side), 1), p.h, p.w)
		vh, vw := rng.IntN(p.h-s+1), rng.IntN(p.w-s+1)
		copy(dst, best)
		// The reference adds ±2ε to best and projects onto the ball: from
		// anywhere in the ball that lands on the face x0 ± ε, written
		// directly here so that float32 rounding cannot leave a hair off it.
		for ch := range p.c {
			e := float32(p.eps) * randSign(rng)
			p.eachIn(ch, vh, vw, s, func(j, _, _ int) { dst[j] = clamp01(x0[j] + e) })
		}
		return
	}
	s := max(int(side), 3)
	if s%2 == 0 {
		s++
	}
	s = min(s, p.h, p.w)
	p.stepL2(dst, x0, best, rng, s)
}

// stepL2 moves the perturbation's mass in the two windows (vh, vw) and
// (vh2, vw2) of side s into the first, as a new pattern of random sign
// plus the window's old content, so that the whole stays at norm ε.
func (p *squareProposer) stepL2(dst, x0, best []float32, rng *rand.Rand, s int) {
	d := p.scratch()
	total := 0.0
	for j := range d {
		d[j] = float64(best[j]) - float64(x0[j])
		total += d[j] * d[j]
	}
	vh, vw := rng.IntN(p.h-s+1), rng.IntN(p.w-s+1)
	vh2, vw2 := rng.IntN(p.h-s+1), rng.IntN(p.w-s+1)
	eta, tr := p.pattern(s), rng.IntN(2) == 1
	if cap(p.win) < s*s {
		p.win = make([]float64, s*s)
	}
	win := p.win[:s*s]
	free := max(p.eps*p.eps-total, 0) / float64(p.c)
	for ch := range p.c {
		sg := float64(randSign(rng))
		first := 0.0 // the squared norm in the first window
		p.eachIn(ch, vh, vw, s, func(j, _, _ int) { first += d[j] * d[j] })
		both := first // ... and in both windows
		p.eachIn(ch, vh2, vw2, s, func(j, u, v int) {
			if u+vh2 < vh || u+vh2 >= vh+s || v+vw2 < vw || v+vw2 >= vw+s {
				both += d[j] * d[j]
			}
		})
		old, norm := 1e-12+math.Sqrt(first), 0.0
		p.eachIn(ch, vh, vw, s, func(j, u, v int) {
			win[u*s+v] = sg*etaAt(eta, s, u, v, tr) + d[j]/old
			norm += win[u*s+v] * win[u*s+v]
		})
		scale := math.Sqrt(free+both) / (1e-12 + math.Sqrt(norm))
		p.eachIn(ch, vh2, vw2, s, func(j, _, _ int) { d[j] = 0 })
		p.eachIn(ch, vh, vw, s, func(j, u, v int) { d[j] = win[u*s+v] * scale })
	}
	p.writeL2(dst, x0, d)
}

// writeL2 writes x0 plus d rescaled to norm ε, clipped to [0,1]. Clipping
// only shortens the perturbation, but float32 rounding moves each pixel by
// up to 2⁻²⁴, so d is scaled to ε less that much over the whole image, and
// the result checked.
func (p *squareProposer) writeL2(dst, x0 []float32, d []float64) {
	norm := 0.0
	for _, v := range d {
		norm += v * v
	}
	target := p.eps - math.Sqrt(float64(len(d)))*0x1p-24 - p.eps*0x1p-23
	if norm == 0 || target <= 0 {
		copy(dst, x0)
		return
	}
	f := target / math.Sqrt(norm)
	for range 4 {
		got := 0.0
		for j, v := range d {
			dst[j] = clamp01(x0[j] + float32(v*f))
			e := float64(dst[j]) - float64(x0[j])
			got += e * e
		}
		if got <= p.eps*p.eps {
			return
		}
		f /= 2 // not reached: the margin covers the rounding
	}
	copy(dst, x0)
}

// eachIn calls f for each pixel of channel ch in the s×s window at
// (vh, vw): its index in the sample and its row and column in the window.
func (p *squareProposer) eachIn(ch, vh, vw, s int, f func(j, u, v int)) {
	for u := range s {
		row := (ch*p.h + vh + u) * p.w
		for v := range s {
			f(row+vw+v, u, v)
		}
	}
}

func (p *squareProposer) scratch() []float64 {
	n := p.c * p.h * p.w
	if cap(p.d) < n {
		p.d = make([]float64, n)
	}
	d := p.d[:n]
	clear(d)
	return d
}

// pattern returns the s×s L2 window of unit norm: the top half a stack of
// centred squares of weight 1/(k+1)² (k the half-width), the bottom half
// the same negated.
func (p *squareProposer) pattern(s int) []float64 {
	if e, ok := p.eta[s]; ok {
		return e
	}
	e := make([]float64, s*s)
	top := s / 2
	bumps(e[:top*s], top, s, 1)
	bumps(e[top*s:], s-top, s, -1)
	normalize(e)
	p.eta[s] = e
	return e
}

// bumps writes into dst (rows×cols) centred squares of half-width
// k = 0, 1, … each adding sign/(k+1)², scaled to unit norm.
func bumps(dst []float64, rows, cols int, sign float64) {
	if rows == 0 {
		return
	}
	cr, cc := rows/2, cols/2
	for k := range max(cr, cc) + 1 {
		add := sign / float64((k+1)*(k+1))
		for r := max(cr-k, 0); r < min(cr+k+1, rows); r++ {
			for c := max(cc-k, 0); c < min(cc+k+1, cols); c++ {
				dst[r*cols+c] += add
			}
		}
	}
	normalize(dst)
}

func normalize(v []float64) {
	n := 0.0
	for _, x := range v {
		n += x * x
	}
	if n > 0 {
		n = math.Sqrt(n)
		for i := range v {
			v[i] /= n
		}
	}
}

// etaAt reads the pattern at row u, column v, transposed when tr.
func etaAt(eta []float64, s, u, v int, tr bool) float64 {
	if tr {
		u, v = v, u
	}
	return eta[u*s+v]
}

func randSign(rng *rand.Rand) float32 {
	if rng.IntN(2) == 0 {
		return -1
	}
	return 1
}
