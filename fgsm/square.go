package fgsm

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/onnxguard/onnxguard/runtime"
)

// Square's defaults, the reference's (autoattack/square.py).
const (
	squareQueries = 5000
	squarePInit   = 0.8
	// squareStream is Square's stream constant for SampleRand ("SQUARE").
	squareStream = 0x535155415245
	// squareTargetStream draws square-t's target classes.
	squareTargetStream = 0x5351554152455f54
)

func init() {
	registerStage("square", func(ctx context.Context, env *StageEnv, x []float32, labels, idx []int) (*StageResult, error) {
		return square(ctx, env, x, labels, idx, nil)
	})
	registerStage("square-t", squareTargeted)
}

// squareTargeted is Square with the reference's targeted form: each sample
// aims at a class other than its label drawn from its own stream, and is
// broken when the model picks that class.
func squareTargeted(ctx context.Context, env *StageEnv, x []float32, labels, idx []int) (*StageResult, error) {
	if env.Classes < 2 {
		return nil, fmt.Errorf("square-t: the model scores %d classes; a targeted attack needs at least 2", env.Classes)
	}
	targets := make([]int, len(labels))
	for i, y := range labels {
		t := SampleRand(env.Seed, idx[i], squareTargetStream).IntN(env.Classes - 1)
		if t >= y {
			t++
		}
		targets[i] = t
	}
	return square(ctx, env, x, labels, idx, targets)
}

// squareState is one sample's search within one restart.
type squareState struct {
	i       int // the sample's place in x
	rng     *rand.Rand
	loss    float64 // the margin of best, lower is better
	broken  bool
	queries int
}

// square runs Square (stages "square" and "square-t"), the score-based
// black-box attack of Andriushchenko, Croce, Flammarion and Hein (ECCV
// 2020), the last attack of AutoAttack. It needs the model's logits only
// (StageEnv.Score) and proposes, each query, a random square of the image
// changed at the boundary of the ε-ball, kept when it lowers the margin
// z_y − max_{i≠y} z_i (targeted: max_{i≠t} z_i − z_t). The square's area,
// a fraction p of the image, shrinks with the queries spent on the
// reference implementation's schedule, starting at p_init = 0.8.
//
// The queries of all samples still robust go to the Scorer together, one
// call an iteration; a sample leaves the batch once it is misclassified.
// Each sample draws its squares from its own stream (SampleRand), so its
// result does not depend on the batch it came in.
//
// targets, when not nil, holds each sample's target class. Iters is the
// query budget per sample and restart, the first query (the initial
// point) included, so a sample spends at most Restarts·Iters queries.
func square(ctx context.Context, env *StageEnv, x []float32, labels, idx []int, targets []int) (*StageResult, error) {
	n := len(labels)
	per := env.C * env.H * env.W
	if err := checkSquare(env, x, labels, idx, targets); err != nil {
		return nil, err
	}
	budget, restarts := cmp.Or(env.Iters, squareQueries), cmp.Or(env.Restarts, 1)
	res := &StageResult{Adv: append([]float32(nil), x...), Queries: make([]int, n)}
	bestLoss := make([]float64, n)
	broken := make([]bool, n)
	for i := range bestLoss {
		bestLoss[i] = math.Inf(1)
	}
	run := &squareRun{env: env, x: x, labels: labels, targets: targets, budget: budget, per: per}
	for r := range restarts {
		var todo []*squareState
		for i := range n {
			if !broken[i] {
				todo = append(todo, &squareState{i: i, rng: SampleRand(env.Seed, idx[i], squareStream*uint64(r+1))})
			}
		}
		if len(todo) == 0 {
			break
		}
		adv := append([]float32(nil), x...)
		run.progress = func(done int) {
			if env.Progress != nil {
				env.Progress(n-len(todo)+done, n)
			}
		}
		if err := run.attack(ctx, adv, todo); err != nil {
			return nil, err
		}
		for _, s := range todo {
			res.Queries[s.i] += s.queries
			if s.broken || s.loss < bestLoss[s.i] {
				bestLoss[s.i], broken[s.i] = s.loss, s.broken
				copy(res.Adv[s.i*per:(s.i+1)*per], adv[s.i*per:(s.i+1)*per])
			}
		}
	}
	if env.Progress != nil {
		env.Progress(n, n)
	}
	return res, nil
}

func checkSquare(env *StageEnv, x []float32, labels, idx, targets []int) error {
	n, per := len(labels), env.C*env.H*env.W
	switch {
	case env.Score == nil:
		return fmt.Errorf("square: no Scorer to query; the black-box attack needs the model's logits (StageEnv.Score)")
	case per <= 0:
		return fmt.Errorf("square: sample shape %d×%d×%d is empty", env.C, env.H, env.W)
	case len(x) != n*per:
		return fmt.Errorf("square: %d pixel values for %d samples of %d×%d×%d", len(x), n, env.C, env.H, env.W)
	case len(idx) != n:
		return fmt.Errorf("square: %d sample indices for %d samples", len(idx), n)
	case targets != nil && len(targets) != n:
		return fmt.Errorf("square: %d targets for %d samples", len(targets), n)
	case env.Norm != Linf && env.Norm != L2:
		return fmt.Errorf("square: norm %q: choose linf or l2", env.Norm)
	case !(env.Eps > 0):
		return fmt.Errorf("square: ε is %g; it must be positive", env.Eps)
	case env.Iters < 0 || env.Restarts < 0:
		return fmt.Errorf("square: %d queries and %d restarts; neither may be negative", env.Iters, env.Restarts)
	}
	for i, y := range labels {
		if y < 0 || env.Classes > 0 && y >= env.Classes {
			return fmt.Errorf("square: sample %d has label %d; the model scores %d classes", idx[i], y, env.Classes)
		}
		if targets != nil && (targets[i] < 0 || env.Classes > 0 && targets[i] >= env.Classes) {
			return fmt.Errorf("square: sample %d has target %d; the model scores %d classes", idx[i], targets[i], env.Classes)
		}
	}
	return nil
}

// squareRun holds what one restart's samples share.
type squareRun struct {
	env      *StageEnv
	x        []float32
	labels   []int
	targets  []int
	budget   int
	per      int
	progress func(done int)

	batch, logits []float32
	prop          *squareProposer
}

// attack runs one restart on the samples of todo, keeping each one's best
// point in adv (which starts as x).
func (r *squareRun) attack(ctx context.Context, adv []float32, todo []*squareState) error {
	env, per := r.env, r.per
	if r.prop == nil {
		r.prop = newSquareProposer(env)
	}
	active := slices.Clone(todo)
	for q := 0; q < r.budget && len(active) > 0; q++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("square: stopped after %d of %d queries: %w", q, r.budget, err)
		}
		p := squareP(q-1, r.budget)
		r.batch = grow(r.batch, len(active)*per)
		for j, s := range active {
			x0 := r.x[s.i*per : (s.i+1)*per]
			dst := r.batch[j*per : (j+1)*per]
			if q == 0 {
				r.prop.init(dst, x0, s.rng)
			} else {
				r.prop.step(dst, x0, adv[s.i*per:(s.i+1)*per], s.rng, p)
			}
		}
		if err := r.score(len(active)); err != nil {
			return err
		}
		k := len(r.logits) / len(active)
		kept := active[:0]
		finished := 0
		for j, s := range active {
			s.queries++
			loss, broken := r.margin(r.logits[j*k:(j+1)*k], s.i)
			if q == 0 || broken || loss < s.loss {
				s.loss, s.broken = loss, broken
				copy(adv[s.i*per:(s.i+1)*per], r.batch[j*per:(j+1)*per])
			}
			if !s.broken {
				kept = append(kept, s)
			}
		}
		active = kept
		for _, s := range todo {
			if s.broken {
				finished++
			}
		}
		r.progress(finished)
	}
	return nil
}

// score queries the model on the first n samples of the batch.
func (r *squareRun) score(n int) error {
	out, err := r.env.Score(r.logits, r.batch[:n*r.per], n)
	if err != nil {
		return fmt.Errorf("square: querying the model: %w", err)
	}
	if len(out) == 0 || len(out)%n != 0 || r.env.Classes > 0 && len(out) != n*r.env.Classes {
		return fmt.Errorf("square: the model gave %d scores for %d samples of %d classes", len(out), n, r.env.Classes)
	}
	r.logits = out
	return nil
}

// margin gives the loss Square lowers for sample i's logits, and whether
// the sample is broken (the class the model picks is no longer its label,
// or is its target). Untargeted: z_y − max_{i≠y} z_i. Targeted:
// max_{i≠t} z_i − z_t.
func (r *squareRun) margin(row []float32, i int) (float64, bool) {
	c := r.labels[i]
	if r.targets != nil {
		c = r.targets[i]
	}
	if c >= len(row) {
		return math.Inf(1), false
	}
	other := math.Inf(-1)
	for j, v := range row {
		if j != c {
			other = max(other, float64(v))
		}
	}
	if r.targets != nil {
		return other - float64(row[c]), runtime.Argmax(row) == c
	}
	return float64(row[c]) - other, runtime.Argmax(row) != c
}

// squareP is the fraction of the image the square covers at iteration it
// (0-based, after the initial query) of a budget of n queries: the
// reference's schedule for 10000 queries, rescaled to n, halving p_init at
// 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000.
func squareP(it, n int) float64 {
	at := int(float64(it) / float64(n) * 10000)
	halvings := 0
	for _, t := range []int{10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000} {
		if at > t {
			halvings++
		}
	}
	return squarePInit / float64(int(1)<<halvings)
}
