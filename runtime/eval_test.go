package runtime

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
)

// scoreByMean is a fake classifier: it predicts class floor(mean pixel·10),
// so the tests know every answer.
type scoreByMean struct{ calls, lastN int }

func (e *scoreByMean) Run(dst, x []float32, n int) ([]float32, []int64, error) {
	e.calls++
	e.lastN = n
	per := len(x) / n
	out := make([]float32, n*10)
	for i := 0; i < n; i++ {
		var s float32
		for _, v := range x[i*per : (i+1)*per] {
			s += v
		}
		c := min(int(s/float32(per)*10), 9)
		out[i*10+c] = 1
	}
	return out, []int64{int64(n), 10}, nil
}

func (*scoreByMean) Close() error { return nil }

// writeData makes n 2×2 gray images whose mean is (i%10)/10+0.05 and whose
// label is i%10, except every third sample, labelled wrongly.
func writeData(t *testing.T, n int) string {
	dir := t.TempDir()
	x := make([]float32, n*4)
	var labels []float32
	for i := 0; i < n; i++ {
		for j := 0; j < 4; j++ {
			x[i*4+j] = float32(i%10)/10 + 0.05
		}
		l := i % 10
		if i%3 == 0 {
			l = (l + 1) % 10
		}
		labels = append(labels, float32(l))
	}
	path := filepath.Join(dir, "x.npy")
	if err := dataset.WriteNpy(path, x, []int{n, 1, 2, 2}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestEvaluateNeedsLabels(t *testing.T) {
	src, err := dataset.Open(writeData(t, 5), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	_, err = Evaluate(context.Background(), &scoreByMean{}, src, Config{})
	if err == nil || !strings.Contains(err.Error(), "no labels") {
		t.Errorf("got %v, want an error about missing labels", err)
	}
}

func TestPredictBatches(t *testing.T) {
	for _, test := range []struct{ n, batch, calls, last int }{
		{10, 3, 4, 1},
		{10, 10, 1, 10},
		{10, 64, 1, 10},
	} {
		src, err := dataset.Open(writeData(t, test.n), nil)
		if err != nil {
			t.Fatal(err)
		}
		e := &scoreByMean{}
		var progress []int
		scores, k, err := Predict(context.Background(), e, src, Config{Batch: test.batch, Progress: func(done, total int) {
			progress = append(progress, done)
			if total != test.n {
				t.Errorf("progress total %d, want %d", total, test.n)
			}
		}})
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		if k != 10 || len(scores) != test.n*10 || e.calls != test.calls || e.lastN != test.last {
			t.Errorf("batch %d: k=%d, %d scores, %d calls, last batch %d; want 10, %d, %d, %d", test.batch, k, len(scores), e.calls, e.lastN, test.n*10, test.calls, test.last)
		}
		for i := 0; i < test.n; i++ {
			if got := Argmax(scores[i*10 : (i+1)*10]); got != i%10 {
				t.Errorf("sample %d predicted %d, want %d", i, got, i%10)
			}
		}
		if progress[len(progress)-1] != test.n {
			t.Errorf("progress ended at %d, want %d", progress[len(progress)-1], test.n)
		}
	}
}

func TestPredictCancelled(t *testing.T) {
	src, err := dataset.Open(writeData(t, 10), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Predict(ctx, &scoreByMean{}, src, Config{}); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestPreprocessReachesEngine(t *testing.T) {
	src, err := dataset.Open(writeData(t, 10), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	// Scale 0.5 halves every mean, so sample i is predicted as (i%10)/2.
	scores, _, err := Predict(context.Background(), &scoreByMean{}, src, Config{Pre: dataset.Preprocess{Scale: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if got, want := Argmax(scores[i*10:(i+1)*10]), int((float32(i)/10+0.05)*0.5*10); got != want {
			t.Errorf("sample %d: predicted %d, want %d", i, got, want)
		}
	}
}

func TestArgmaxFirstOnTies(t *testing.T) {
	for _, test := range []struct {
		v    []float32
		want int
	}{{[]float32{1, 3, 3}, 1}, {[]float32{-1}, 0}, {[]float32{0, 0}, 0}} {
		if got := Argmax(test.v); got != test.want {
			t.Errorf("Argmax(%v) = %d, want %d", test.v, got, test.want)
		}
	}
}
