package runtime

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// TestBatches feeds samples whose values are their index plus one through
// Batches and checks every batch: its size, the samples it holds, and
// zeros after them, whatever the buffer held before.
func TestBatches(t *testing.T) {
	for i, test := range []struct {
		n, fixed, per int
		want          []string // first:k per batch
	}{
		{n: 5, fixed: 0, per: 3, want: []string{"0:5"}},
		{n: 5, fixed: -1, per: 1, want: []string{"0:5"}},
		{n: 5, fixed: 2, per: 3, want: []string{"0:2", "2:2", "4:1"}},
		{n: 4, fixed: 2, per: 2, want: []string{"0:2", "2:2"}},
		{n: 1, fixed: 4, per: 2, want: []string{"0:1"}},
	} {
		x := make([]float32, test.n*test.per)
		for s := range test.n {
			for j := range test.per {
				x[s*test.per+j] = float32(s + 1)
			}
		}
		size := test.n
		if test.fixed > 0 {
			size = test.fixed
		}
		buf := make([]float32, 1, 64)
		for j := range buf[:cap(buf)] {
			buf[:cap(buf)][j] = -1 // stale values the padding must not show
		}
		var got []string
		out, err := Batches(buf, test.n, test.fixed, test.per, func(dst []float32, first, k int) {
			copy(dst, x[first*test.per:(first+k)*test.per])
		}, func(batch []float32, first, k int) error {
			got = append(got, fmt.Sprintf("%d:%d", first, k))
			if len(batch) != size*test.per {
				t.Errorf("case %d: batch of %d values, want %d", i, len(batch), size*test.per)
			}
			for j, v := range batch {
				s, want := j/test.per, float32(0)
				if s < k {
					want = float32(first + s + 1)
				}
				if v != want {
					t.Errorf("case %d: batch at %d: value %d is %g, want %g", i, first, j, v, want)
					break
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, test.want) {
			t.Errorf("case %d: batches %v, want %v", i, got, test.want)
		}
		if cap(out) < size*test.per {
			t.Errorf("case %d: returned buffer holds %d values, want at least %d", i, cap(out), size*test.per)
		}
	}
	stop := errors.New("stop")
	calls := 0
	_, err := Batches(nil, 6, 2, 1, func([]float32, int, int) {}, func([]float32, int, int) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("run's error: got %v after %d calls, want it after 1", err, calls)
	}
}
