//go:build cgo

package ort

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/onnxguard/onnxguard/runtime/interp"
)

// ONNX Runtime is loaded once per process, so every test opens models
// through testLib: a link to the installed library in testDir, where tests
// can put (bogus) CUDA provider files beside it.
var (
	testLib, testDir string
	findErr          error
)

func TestMain(m *testing.M) {
	if path := os.Getenv(rawChildEnv); path != "" {
		os.Exit(rawChild(path)) // see openWithoutPreflight
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	real, err := FindLibrary("")
	if err != nil {
		findErr = err
		return m.Run()
	}
	testDir, err = os.MkdirTemp("", "onnxguard-ort-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(testDir)
	for _, f := range append([]string{filepath.Base(real)}, cudaProviderFiles...) {
		src := filepath.Join(filepath.Dir(real), f)
		if _, err := os.Stat(src); err != nil {
			continue
		}
		if err := os.Symlink(src, filepath.Join(testDir, f)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	testLib = filepath.Join(testDir, filepath.Base(real))
	return m.Run()
}

// needORT skips a test when ONNX Runtime is not installed, unless
// ONNXGUARD_REQUIRE_ORT is set (as CI does), when that is a failure.
func needORT(t *testing.T) {
	t.Helper()
	if testLib != "" {
		return
	}
	if os.Getenv("ONNXGUARD_REQUIRE_ORT") != "" {
		t.Fatalf("ONNXGUARD_REQUIRE_ORT is set but %v", findErr)
	}
	t.Skipf("ONNX Runtime not installed, run scripts/setup-ort.sh: %v", findErr)
}

func cpuOpts() *Options {
	return &Options{Check: interp.PreflightCheck, Library: testLib, Device: DeviceCPU}
}

// openModel opens testdata/name, or name itself if it is a path.
func openModel(t *testing.T, name string, opt *Options) *Session {
	t.Helper()
	path := name
	if !strings.ContainsRune(name, '/') {
		path = filepath.Join("testdata", name)
	}
	s, err := Open(path, opt)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The classifier of testdata/make_models.py: Flatten, Gemm(4→5), Relu,
// Gemm(5→3), with the same weight formulas.
func w1(i, j int) float64 { return float64((i*4+j)%7-3) * 0.25 }
func b1(i int) float64    { return float64(i-2) * 0.1 }
func w2(i, j int) float64 { return float64((i*3+j*2)%5-2) * 0.5 }

var b2 = []float64{0.5, -0.25, 0}

func handLogits(x []float32) []float32 {
	var out []float32
	for len(x) > 0 {
		var h [5]float64
		for i := range h {
			h[i] = b1(i)
			for j := range 4 {
				h[i] += w1(i, j) * float64(x[j])
			}
			h[i] = max(h[i], 0)
		}
		for i := range 3 {
			y := b2[i]
			for j := range h {
				y += w2(i, j) * h[j]
			}
			out = append(out, float32(y))
		}
		x = x[4:]
	}
	return out
}

func randomInput(seed uint64, n int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func close32(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > tol*(1+math.Abs(float64(b[i]))) {
			return false
		}
	}
	return true
}

func TestRunMatchesHandComputed(t *testing.T) {
	needORT(t)
	// mlp_misdeclared declares a wrong output shape, so its first Run fails
	// into a tensor of that shape and Run retries with one ONNX Runtime sizes.
	for _, model := range []string{"mlp_dynamic.onnx", "mlp_b1.onnx", "mlp_b2.onnx", "mlp_b1_squeezed.onnx", "mlp_misdeclared.onnx"} {
		s := openModel(t, model, cpuOpts())
		for _, n := range []int{1, 2, 5, 4, 5} {
			x := randomInput(uint64(n), n*4)
			got, shape, err := s.Run(nil, x, n)
			if err != nil {
				t.Errorf("%s n=%d: %v", model, n, err)
				continue
			}
			if want := []int64{int64(n), 3}; !slices.Equal(shape, want) {
				t.Errorf("%s n=%d: shape %v, want %v", model, n, shape, want)
			}
			if want := handLogits(x); !close32(got, want, 1e-5) {
				t.Errorf("%s n=%d:\n got %v\nwant %v", model, n, got, want)
			}
		}
		if want := model == "mlp_misdeclared.onnx"; s.ortAlloc != want {
			t.Errorf("%s: ortAlloc = %v after runs; want %v", model, s.ortAlloc, want)
		}
	}
}

func TestFixedBatchMatchesDynamic(t *testing.T) {
	needORT(t)
	const n = 5
	x := randomInput(42, n*4)
	want, _, err := openModel(t, "mlp_dynamic.onnx", cpuOpts()).Run(nil, x, n)
	if err != nil {
		t.Fatal(err)
	}
	for _, model := range []string{"mlp_b1.onnx", "mlp_b2.onnx"} {
		got, shape, err := openModel(t, model, cpuOpts()).Run(nil, x, n)
		if err != nil || !slices.Equal(shape, []int64{n, 3}) || !close32(got, want, 1e-6) {
			t.Errorf("%s, n=%d: got %v %v, %v; want the dynamic model's %v [5 3]", model, n, got, shape, err, want)
		}
	}
}

func TestRunReusesDst(t *testing.T) {
	needORT(t)
	s := openModel(t, "mlp_dynamic.onnx", cpuOpts())
	x := randomInput(7, 3*4)
	dst := make([]float32, 0, 9)
	got, _, err := s.Run(dst, x, 3)
	if err != nil {
		t.Fatal(err)
	}
	if &got[0] != &dst[:1][0] {
		t.Errorf("Run(dst with cap 9, n=3) wrote elsewhere than dst")
	}
	small := make([]float32, 0, 2)
	got, _, err = s.Run(small, x, 3)
	if err != nil || len(got) != 9 || !close32(got, handLogits(x), 1e-5) {
		t.Errorf("Run(dst too small) = %v, %v; want the 9 logits in a new slice", got, err)
	}
}

func TestRunBadInput(t *testing.T) {
	needORT(t)
	for _, model := range []string{"mlp_dynamic.onnx", "mlp_b2.onnx"} {
		s := openModel(t, model, cpuOpts())
		for i, test := range []struct {
			len, n int
			want   string
		}{
			{len: 7, n: 2, want: "x has 7 values, but 2 samples of shape [1 2 2]"},
			{len: 12, n: 2, want: "x has 12 values"},
			{len: 8, n: 0, want: "n = 0"},
			{len: 8, n: -1, want: "n = -1"},
			{len: 8, n: math.MaxInt / 2, want: "x has 8 values"},
		} {
			_, _, err := s.Run(nil, make([]float32, test.len), test.n)
			if err == nil || !strings.Contains(err.Error(), test.want) {
				t.Errorf("%s %d: Run(len %d, n=%d): %v; want an error with %q", model, i, test.len, test.n, err, test.want)
			}
		}
	}
}

func TestOpenUnsupported(t *testing.T) {
	needORT(t)
	for i, test := range []struct {
		model string
		want  []string
	}{
		{"two_inputs.onnx", []string{"2 inputs", `"a" float32 [-1 4]`, `"b" float32 [-1 4]`}},
		{"int64_input.onnx", []string{`input "ids" int64`, "float32"}},
		{"int_output.onnx", []string{`first output "class" int64`}},
		{"dynamic_hw.onnx", []string{"axis 2", "dynamic"}},
		{"no_such_model.onnx", []string{"no_such_model.onnx", "no such file"}},
		{"make_models.py", []string{"make_models.py"}},
	} {
		s, err := Open(filepath.Join("testdata", test.model), cpuOpts())
		if err == nil {
			s.Close()
			t.Errorf("%d: Open(%s) succeeded; want an error", i, test.model)
			continue
		}
		for _, w := range test.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%d: Open(%s): %q does not mention %q", i, test.model, err, w)
			}
		}
	}
	for i, data := range [][]byte{nil, []byte("not an onnx model")} {
		if s, err := OpenBytes(data, cpuOpts()); err == nil {
			s.Close()
			t.Errorf("OpenBytes(case %d) succeeded; want an error", i)
		}
	}
}

func TestSignature(t *testing.T) {
	needORT(t)
	for i, test := range []struct {
		model         string
		inputs, outpt []TensorInfo
	}{
		{"mlp_dynamic.onnx",
			[]TensorInfo{{"input", []int64{-1, 1, 2, 2}, "float32"}},
			[]TensorInfo{{"logits", []int64{-1, 3}, "float32"}, {"probs", []int64{-1, 3}, "float32"}}},
		{"mlp_b2.onnx",
			[]TensorInfo{{"input", []int64{2, 1, 2, 2}, "float32"}},
			[]TensorInfo{{"logits", []int64{2, 3}, "float32"}, {"probs", []int64{2, 3}, "float32"}}},
		{"mlp_b1_squeezed.onnx",
			[]TensorInfo{{"input", []int64{1, 1, 2, 2}, "float32"}},
			[]TensorInfo{{"logits_flat", []int64{3}, "float32"}, {"probs", []int64{1, 3}, "float32"}}},
	} {
		s := openModel(t, test.model, cpuOpts())
		if got := fmt.Sprint(s.Inputs()); got != fmt.Sprint(test.inputs) {
			t.Errorf("%d %s: Inputs() = %s, want %s", i, test.model, got, fmt.Sprint(test.inputs))
		}
		if got := fmt.Sprint(s.Outputs()); got != fmt.Sprint(test.outpt) {
			t.Errorf("%d %s: Outputs() = %s, want %s", i, test.model, got, fmt.Sprint(test.outpt))
		}
		s.Inputs()[0].Shape[0] = 99
		if s.Inputs()[0].Shape[0] == 99 {
			t.Errorf("%d %s: Inputs() shares its shapes with the session", i, test.model)
		}
	}
}

func TestOpenBytes(t *testing.T) {
	needORT(t)
	data, err := os.ReadFile("testdata/mlp_b2.onnx")
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenBytes(data, cpuOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x := randomInput(3, 3*4)
	got, _, err := s.Run(nil, x, 3)
	if err != nil || !close32(got, handLogits(x), 1e-5) {
		t.Errorf("OpenBytes then Run = %v, %v; want %v", got, err, handLogits(x))
	}
}

func TestSecondLibraryRefused(t *testing.T) {
	needORT(t)
	openModel(t, "mlp_dynamic.onnx", cpuOpts())
	other := touch(t, filepath.Join(t.TempDir(), "libonnxruntime.so.1"))
	_, err := Open("testdata/mlp_dynamic.onnx", &Options{Check: interp.PreflightCheck, Library: other, Device: DeviceCPU})
	if err == nil || !strings.Contains(err.Error(), "already loaded from "+testLib) || !strings.Contains(err.Error(), other) {
		t.Errorf("Open with a second library: %v; want an error naming %s and %s", err, testLib, other)
	}
}

func TestThreadsAndVerbose(t *testing.T) {
	needORT(t)
	s := openModel(t, "mlp_b2.onnx", &Options{Check: interp.PreflightCheck, Library: testLib, Device: DeviceCPU, Threads: 1, Verbose: true})
	x := randomInput(9, 3*4)
	if got, _, err := s.Run(nil, x, 3); err != nil || !close32(got, handLogits(x), 1e-5) {
		t.Errorf("one thread, verbose: Run = %v, %v; want %v", got, err, handLogits(x))
	}
}

func TestClose(t *testing.T) {
	needORT(t)
	s := openModel(t, "mlp_dynamic.onnx", cpuOpts())
	if _, _, err := s.Run(nil, make([]float32, 4), 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, _, err := s.Run(nil, make([]float32, 4), 1); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Run after Close: %v; want an error saying the session is closed", err)
	}
}

func TestConcurrentRun(t *testing.T) {
	needORT(t)
	for _, model := range []string{"mlp_dynamic.onnx", "mlp_b2.onnx"} {
		s := openModel(t, model, cpuOpts())
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := range 8 {
			wg.Go(func() {
				for r := range 20 {
					n := 1 + (g+r)%4
					x := randomInput(uint64(g*100+r), n*4)
					got, _, err := s.Run(nil, x, n)
					if err != nil || !close32(got, handLogits(x), 1e-5) {
						errs <- fmt.Errorf("%s goroutine %d run %d (n=%d): %v, %v; want %v", model, g, r, n, got, err, handLogits(x))
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}

func TestPerSample(t *testing.T) {
	for i, test := range []struct {
		shape     []int64
		size      int
		chunk     int
		wantPer   int
		wantShape []int64
		wantErr   bool
	}{
		{shape: []int64{5, 3}, size: 15, chunk: 5, wantPer: 3, wantShape: []int64{3}},
		{shape: []int64{1, 3}, size: 3, chunk: 1, wantPer: 3, wantShape: []int64{3}},
		{shape: []int64{3}, size: 3, chunk: 1, wantPer: 3, wantShape: []int64{3}},
		{shape: []int64{4}, size: 4, chunk: 4, wantPer: 1, wantShape: []int64{}},
		{shape: []int64{4, 3}, size: 12, chunk: 2, wantErr: true},
		{shape: []int64{}, size: 1, chunk: 2, wantErr: true},
	} {
		per, shape, err := perSample(test.shape, test.size, test.chunk)
		if (err != nil) != test.wantErr || per != test.wantPer || !slices.Equal(shape, test.wantShape) {
			t.Errorf("%d: perSample(%v, %d, %d) = %d, %v, %v; want %d, %v, error %v",
				i, test.shape, test.size, test.chunk, per, shape, err, test.wantPer, test.wantShape, test.wantErr)
		}
	}
}

// TestSessionsShareOneArena checks that the open sessions share one CPU
// arena, registered while any is open and unregistered (so freed) when the
// last closes, and that sessions drawing on it in turn, with batch sizes
// that make it grow and shrink between runs, still compute right.
func TestSessionsShareOneArena(t *testing.T) {
	needORT(t)
	state := func() (int, bool) {
		arena.mu.Lock()
		defer arena.mu.Unlock()
		return arena.users, arena.on
	}
	before, _ := state()
	a := openModel(t, "mlp_dynamic.onnx", cpuOpts())
	b := openModel(t, "mlp_b2.onnx", cpuOpts())
	if users, on := state(); users != before+2 || !on {
		t.Fatalf("two sessions open: %d users, registered %v; want %d, true", users, on, before+2)
	}
	for i, n := range []int{1, 64, 3, 256, 2, 64} {
		x := randomInput(uint64(100+i), n*4)
		for _, s := range []*Session{a, b} {
			got, _, err := s.Run(nil, x, n)
			if err != nil || !close32(got, handLogits(x), 1e-5) {
				t.Fatalf("%s n=%d: %v; logits differ from the hand-computed ones", s.name, n, err)
			}
		}
	}
	a.Close()
	b.Close()
	if before == 0 {
		if users, on := state(); users != 0 || on {
			t.Errorf("every session closed: %d users, registered %v; want 0, false", users, on)
		}
	}
	if _, err := OpenGraph([]byte("not a model"), []string{"x"}, []string{"y"}, cpuOpts()); err == nil {
		t.Fatal("OpenGraph opened bytes that are not a model")
	}
	if users, _ := state(); users != before {
		t.Fatalf("a session that failed to open left %d users; want %d", users, before)
	}
	c := openModel(t, "mlp_dynamic.onnx", cpuOpts())
	if users, on := state(); users != before+1 || !on {
		t.Fatalf("a session opened again: %d users, registered %v; want %d, true", users, on, before+1)
	}
	x := randomInput(9, 8)
	if got, _, err := c.Run(nil, x, 2); err != nil || !close32(got, handLogits(x), 1e-5) {
		t.Fatalf("after the arena was registered again: %v; logits differ", err)
	}
}
