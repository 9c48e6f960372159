package fgsm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/internal/testfiles"
	"github.com/onnxguard/onnxguard/runtime"
)

// linear is a toy classifier: logits = W·x + b, W k×per.
type linear struct {
	w     [][]float32
	b     []float32
	calls int // Scorer calls
	rows  int // samples scored
}

func (m *linear) score(dst, x []float32, n int) ([]float32, error) {
	m.calls++
	m.rows += n
	per, k := len(x)/n, len(m.w)
	dst = grow(dst, n*k)
	for i := range n {
		for c, wc := range m.w {
			z := float64(m.b[c])
			for j, v := range x[i*per : (i+1)*per] {
				z += float64(wc[j]) * float64(v)
			}
			dst[i*k+c] = float32(z)
		}
	}
	return dst, nil
}

// toyProblem is a k-class linear model on c×h×w images and n random
// images labelled with the class the model picks.
func toyProblem(seed uint64, k, n, c, h, w int) (*linear, []float32, []int, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	per := c * h * w
	m := &linear{b: make([]float32, k)}
	for range k {
		row := make([]float32, per)
		for j := range row {
			row[j] = float32(rng.NormFloat64())
		}
		m.w = append(m.w, row)
	}
	x := make([]float32, n*per)
	for j := range x {
		x[j] = rng.Float32()
	}
	logits, _ := m.score(nil, x, n)
	m.calls, m.rows = 0, 0
	labels, idx := make([]int, n), make([]int, n)
	for i := range n {
		labels[i] = runtime.Argmax(logits[i*k : (i+1)*k])
		idx[i] = 100 + i
	}
	return m, x, labels, idx
}

func toyEnv(m *linear, k, c, h, w int, norm Norm, eps float64, iters int) *StageEnv {
	return &StageEnv{Score: m.score, Classes: k, C: c, H: h, W: w, Norm: norm, Eps: eps, Seed: 7, Iters: iters}
}

// checkBall fails when a sample of adv leaves [0,1] or the ε-ball of x.
func checkBall(t *testing.T, what string, norm Norm, eps float64, x, adv []float32, per int) {
	t.Helper()
	for i := 0; i < len(x)/per; i++ {
		l2, linf := 0.0, 0.0
		for j := i * per; j < (i+1)*per; j++ {
			if adv[j] < 0 || adv[j] > 1 || math.IsNaN(float64(adv[j])) {
				t.Fatalf("%s: sample %d pixel %d is %g, outside [0,1]", what, i, j-i*per, adv[j])
			}
			d := math.Abs(float64(adv[j]) - float64(x[j]))
			l2 += d * d
			linf = max(linf, d)
		}
		if got := map[Norm]float64{Linf: linf, L2: math.Sqrt(l2)}[norm]; got > eps+1e-6 {
			t.Fatalf("%s: sample %d is %g from the clean image in %s, more than ε = %g", what, i, got, norm, eps)
		}
	}
}

func runSquare(t *testing.T, name string, env *StageEnv, x []float32, labels, idx []int) *StageResult {
	t.Helper()
	f, err := Stage(name)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f(context.Background(), env, x, labels, idx)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestSquareBudgetAndBall(t *testing.T) {
	const k, c, h, w, n = 4, 2, 8, 8, 12
	for _, test := range []struct {
		norm     Norm
		eps      float64
		iters    int
		restarts int
	}{
		{Linf, 0.003, 40, 1}, {Linf, 0.003, 25, 3}, {Linf, 0.05, 60, 2}, {Linf, 0.3, 60, 1},
		{L2, 0.02, 40, 1}, {L2, 0.02, 25, 3}, {L2, 0.5, 60, 2}, {L2, 3, 60, 1},
	} {
		m, x, labels, idx := toyProblem(3, k, n, c, h, w)
		env := toyEnv(m, k, c, h, w, test.norm, test.eps, test.iters)
		env.Restarts = test.restarts
		res := runSquare(t, "square", env, x, labels, idx)
		what := fmt.Sprintf("%s ε %g, %d×%d queries", test.norm, test.eps, test.restarts, test.iters)
		checkBall(t, what, test.norm, test.eps, x, res.Adv, c*h*w)
		logits, _ := m.score(nil, res.Adv, n)
		sum, limit := 0, test.iters*test.restarts
		for i, q := range res.Queries {
			sum += q
			robust := runtime.Argmax(logits[i*k:(i+1)*k]) == labels[i]
			switch {
			case q < 1 || q > limit:
				t.Errorf("%s: sample %d spent %d queries, want 1 to %d", what, i, q, limit)
			case robust && q != limit:
				t.Errorf("%s: sample %d is still robust after %d queries, want the whole budget %d spent", what, i, q, limit)
			}
		}
		if sum != m.rows-n { // m.score above scored n rows
			t.Errorf("%s: Queries add up to %d, the Scorer saw %d samples", what, sum, m.rows-n)
		}
		if m.calls-1 > limit {
			t.Errorf("%s: %d Scorer calls for %d iterations; the queries of an iteration go in one call", what, m.calls-1, limit)
		}
	}
}

// On a linear two-class model the best L∞ perturbation is known:
// −ε·sign(w) on every pixel, as far as [0,1] lets it move. Square's points
// are vertices of that box (every pixel at one of its two ends), it stops
// on the samples it breaks, and on the others it comes close to the
// optimum margin.
func TestSquareLinearOptimum(t *testing.T) {
	const c, h, w, n, eps, iters = 1, 10, 10, 16, 0.04, 1000
	per := c * h * w
	m, x, labels, idx := toyProblem(5, 2, n, c, h, w)
	res := runSquare(t, "square", toyEnv(m, 2, c, h, w, Linf, eps, iters), x, labels, idx)
	logits, _ := m.score(nil, res.Adv, n)
	clean, _ := m.score(nil, x, n)
	broke := 0
	for i, y := range labels {
		gain := 0.0 // the most the margin can drop
		for j := range per {
			wj := float64(m.w[y][j] - m.w[1-y][j])
			v, a := x[i*per+j], res.Adv[i*per+j]
			lo, hi := clamp01(v-float32(eps)), clamp01(v+float32(eps))
			if a != lo && a != hi {
				t.Fatalf("sample %d pixel %d: %g is at neither end of [%g, %g]", i, j, a, lo, hi)
			}
			gain += max(wj*float64(v-lo), -wj*float64(hi-v))
		}
		m0 := float64(clean[i*2+y] - clean[i*2+1-y])
		got := float64(logits[i*2+y] - logits[i*2+1-y])
		switch {
		case got < 0:
			broke++
			if res.Queries[i] == iters {
				t.Errorf("sample %d: broken at the last query, or not stopped", i)
			}
		case res.Queries[i] != iters:
			t.Errorf("sample %d: margin %g after %d queries: stopped before it was broken", i, got, res.Queries[i])
		case m0-got < 0.95*gain:
			t.Errorf("sample %d: Square lowered the margin by %g of the %g possible", i, m0-got, gain)
		}
	}
	if broke == 0 || broke == n {
		t.Fatalf("%d of %d samples broken; the test wants both kinds (pick another eps)", broke, n)
	}
}

func TestSquareBatchingInvariance(t *testing.T) {
	const k, c, h, w, n = 3, 1, 9, 9, 10
	per := c * h * w
	for _, norm := range []Norm{Linf, L2} {
		eps := map[Norm]float64{Linf: 0.03, L2: 0.3}[norm]
		m, x, labels, idx := toyProblem(11, k, n, c, h, w)
		env := toyEnv(m, k, c, h, w, norm, eps, 50)
		env.Restarts = 2
		whole := runSquare(t, "square", env, x, labels, idx)
		var adv []float32
		var queries []int
		for _, part := range [][2]int{{0, 3}, {3, 4}, {4, n}} {
			r := runSquare(t, "square", env, x[part[0]*per:part[1]*per], labels[part[0]:part[1]], idx[part[0]:part[1]])
			adv = append(adv, r.Adv...)
			queries = append(queries, r.Queries...)
		}
		if !slices.Equal(adv, whole.Adv) || !slices.Equal(queries, whole.Queries) {
			t.Errorf("%s: samples attacked in batches of 3, 1 and 6 differ from one batch of 10 (queries %v and %v)", norm, queries, whole.Queries)
		}
		if slices.Equal(whole.Queries, slices.Repeat([]int{100}, n)) || slices.Equal(whole.Adv, x) {
			t.Errorf("%s: Square changed nothing; the test compares nothing", norm)
		}
	}
}

func TestSquareTargeted(t *testing.T) {
	const k, c, h, w, n, iters = 5, 1, 8, 8, 12, 200
	m, x, labels, idx := toyProblem(13, k, n, c, h, w)
	env := toyEnv(m, k, c, h, w, Linf, 0.2, iters)
	targets := make([]int, n)
	for i, y := range labels {
		targets[i] = (y + 1 + i%(k-1)) % k
	}
	res, err := square(context.Background(), env, x, labels, idx, targets)
	if err != nil {
		t.Fatal(err)
	}
	checkBall(t, "targeted", Linf, 0.2, x, res.Adv, c*h*w)
	logits, _ := m.score(nil, res.Adv, n)
	hits := 0
	for i := range n {
		p := runtime.Argmax(logits[i*k : (i+1)*k])
		switch {
		case p == targets[i]:
			hits++
		case res.Queries[i] != iters:
			t.Errorf("sample %d: class %d (target %d) after %d queries; a targeted attack stops on its target only", i, p, targets[i], res.Queries[i])
		}
	}
	if hits < n/2 {
		t.Errorf("targeted Square reached its target on %d of %d samples at ε = 0.2", hits, n)
	}
	// square-t draws a target other than the label for each sample.
	hits = 0
	res = runSquare(t, "square-t", env, x, labels, idx)
	logits, _ = m.score(nil, res.Adv, n)
	for i := range n {
		if p := runtime.Argmax(logits[i*k : (i+1)*k]); p != labels[i] && res.Queries[i] < iters {
			hits++
		}
	}
	if hits < n/2 {
		t.Errorf("square-t reached its target on %d of %d samples at ε = 0.2", hits, n)
	}
}

func TestSquareSchedule(t *testing.T) {
	for _, test := range []struct {
		it, n int
		want  float64
	}{
		{0, 10000, 0.8}, {10, 10000, 0.8}, {11, 10000, 0.4}, {50, 10000, 0.4}, {51, 10000, 0.2},
		{201, 10000, 0.1}, {1001, 10000, 0.025}, {4001, 10000, 0.8 / 128}, {8001, 10000, 0.8 / 512},
		{5, 5000, 0.8}, {6, 5000, 0.4}, {4999, 5000, 0.8 / 512}, {3999, 5000, 0.8 / 256}, {2, 100, 0.2},
	} {
		if got := squareP(test.it, test.n); math.Abs(got-test.want) > 1e-15 {
			t.Errorf("p at iteration %d of %d = %g, want %g", test.it, test.n, got, test.want)
		}
	}
}

func TestSquarePattern(t *testing.T) {
	p := &squareProposer{eta: map[int][]float64{}}
	for _, s := range []int{1, 3, 5, 8} {
		e := p.pattern(s)
		norm := 0.0
		for u := range s {
			for v := range s {
				x := e[u*s+v]
				norm += x * x
				if (u < s/2) != (x > 0) {
					t.Errorf("side %d: pattern at %d,%d is %g; the top half is positive, the bottom negative", s, u, v, x)
				}
			}
		}
		if math.Abs(norm-1) > 1e-12 {
			t.Errorf("side %d: pattern norm² %g, want 1", s, norm)
		}
		if top := e[:s/2*s]; len(top) > 0 && slices.Max(top) != top[s/2/2*s+s/2] {
			t.Errorf("side %d: the top half %v does not peak at its centre", s, top)
		}
	}
}

func TestSquareStops(t *testing.T) {
	const k, c, h, w, n = 3, 1, 8, 8, 6
	m, x, labels, idx := toyProblem(17, k, n, c, h, w)
	env := toyEnv(m, k, c, h, w, Linf, 0.001, 1000)
	ctx, cancel := context.WithCancel(context.Background())
	progress := 0
	env.Progress = func(done, total int) {
		if progress++; progress == 5 {
			cancel()
		}
	}
	f, _ := Stage("square")
	if _, err := f(ctx, env, x, labels, idx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Square returned %v, want context.Canceled", err)
	}
	if m.calls != 5 {
		t.Errorf("Square queried the model %d times, want 5 (it stops at the iteration after cancel)", m.calls)
	}
	for _, bad := range []func(e *StageEnv){
		func(e *StageEnv) { e.Score = nil },
		func(e *StageEnv) { e.Norm = "l1" },
		func(e *StageEnv) { e.Eps = 0 },
		func(e *StageEnv) { e.Iters = -1 },
	} {
		e := *env
		e.Progress = nil
		bad(&e)
		if _, err := f(context.Background(), &e, x, labels, idx); err == nil {
			t.Errorf("Square accepted a bad environment %+v", e)
		}
	}
}

// On the trained Fashion-MNIST CNN, a few hundred queries at ε = 0.1 L∞
// break most of the samples the model gets right.
func TestSquareFashionCNN(t *testing.T) {
	if testing.Short() {
		t.Skip("attacks a CNN with a few thousand queries")
	}
	mod := loadModel(t, "fmnist_cnn.onnx", dataset.Preprocess{})
	x, labels := testfiles.FashionSlice(t, 24)
	const k = 10
	score := mod.Score
	idx := indices(0, len(labels))
	for _, norm := range []Norm{Linf, L2} {
		eps := map[Norm]float64{Linf: 0.1, L2: 2}[norm]
		env := &StageEnv{Score: score, Classes: k, C: 1, H: 28, W: 28, Norm: norm, Eps: eps, Seed: 1, Iters: 150}
		res := runSquare(t, "square", env, x, labels, idx)
		checkBall(t, "fashion "+string(norm), norm, eps, x, res.Adv, 784)
		before, after := scoreAccuracy(t, score, x, labels), scoreAccuracy(t, score, res.Adv, labels)
		t.Logf("%s ε %g: accuracy %d/%d → %d/%d", norm, eps, before, len(labels), after, len(labels))
		if norm == Linf && after > before/2 || after >= before {
			t.Errorf("%s ε %g: Square left %d of %d samples robust (%d clean)", norm, eps, after, len(labels), before)
		}
	}
}

func scoreAccuracy(t testing.TB, score Scorer, x []float32, labels []int) int {
	t.Helper()
	out, err := score(nil, x, len(labels))
	if err != nil {
		t.Fatal(err)
	}
	k, right := len(out)/len(labels), 0
	for i, y := range labels {
		if runtime.Argmax(out[i*k:(i+1)*k]) == y {
			right++
		}
	}
	return right
}

// Progress counts finished samples, never backwards, and ends at all.
func TestSquareProgress(t *testing.T) {
	const k, c, h, w, n = 3, 1, 8, 8, 9
	m, x, labels, idx := toyProblem(19, k, n, c, h, w)
	env := toyEnv(m, k, c, h, w, Linf, 0.05, 30)
	env.Restarts = 2
	var calls [][2]int
	env.Progress = func(done, total int) { calls = append(calls, [2]int{done, total}) }
	runSquare(t, "square", env, x, labels, idx)
	if len(calls) < 2 || calls[len(calls)-1] != [2]int{n, n} {
		t.Fatalf("progress calls %v, want several ending at %d of %d", calls, n, n)
	}
	for i, cl := range calls {
		if cl[1] != n || cl[0] < 0 || cl[0] > n || i > 0 && cl[0] < calls[i-1][0] {
			t.Fatalf("progress call %d is %v after %v", i, cl, calls[max(i-1, 0)])
		}
	}
}

// Away from the borders of [0,1] nothing clips, so every L2 point Square
// proposes lies on the sphere of radius ε, less float32 rounding (2⁻²⁴ a
// pixel): its result too.
func TestSquareL2Sphere(t *testing.T) {
	const k, c, h, w, n = 3, 2, 10, 10, 6
	const per = c * h * w
	for _, eps := range []float64{1e-3, 0.1, 1} {
		m, x, labels, idx := toyProblem(23, k, n, c, h, w)
		for j := range x {
			x[j] = 0.25 + x[j]/2
		}
		res := runSquare(t, "square", toyEnv(m, k, c, h, w, L2, eps, 40), x, labels, idx)
		for i := range n {
			d := 0.0
			for j := i * per; j < (i+1)*per; j++ {
				e := float64(res.Adv[j]) - float64(x[j])
				d += e * e
			}
			if d = math.Sqrt(d); d > eps || d < eps-2*math.Sqrt(per)*0x1p-24 {
				t.Errorf("ε %g: sample %d is %g from the clean image, want ε", eps, i, d)
			}
		}
	}
}
