package mem

import (
	"math"
	"sync"
	"testing"
)

// TestNextRun checks that storage comes back by length and that storage
// KeepRuns runs have left untaken is let go, and not before.
func TestNextRun(t *testing.T) {
	var p Pool
	p.NextRun()
	a := p.Get(8, false)
	p.Put(a)
	if got := p.Get(8, false); &got[0] != &a[0] {
		t.Error("storage given back was not handed out again")
	}
	if got := p.Get(8, false); &got[0] == &a[0] {
		t.Error("storage handed out twice")
	}
	p.Put(a)
	if got := p.Get(4, false); len(got) != 4 || &got[0] == &a[0] {
		t.Error("storage of another length handed out")
	}
	// Kept through KeepRuns runs at another batch size (a paper-recipe
	// step), let go after one more.
	for range KeepRuns {
		p.NextRun()
	}
	if got := p.Get(8, false); &got[0] != &a[0] {
		t.Errorf("storage untaken for %d runs was let go", KeepRuns)
	}
	p.Put(a)
	for range KeepRuns + 1 {
		p.NextRun()
	}
	if got := p.Get(8, false); &got[0] == &a[0] {
		t.Errorf("storage untaken for %d runs was kept", KeepRuns+1)
	}
	var none *Pool
	none.NextRun()
	none.Put(a)
	if got := none.Get(8, true); len(got) != 8 {
		t.Error("a nil Pool does not allocate")
	}
}

// TestGetContents checks what Get hands out: zeroed storage when asked,
// NaN when poisoned and not asked to zero, and otherwise what was there.
func TestGetContents(t *testing.T) {
	for i, test := range []struct {
		poison, zero bool
		want         func(float32) bool
		what         string
	}{
		{false, false, func(v float32) bool { return v == 7 }, "what it held (7)"},
		{false, true, func(v float32) bool { return v == 0 }, "0"},
		{true, false, func(v float32) bool { return math.IsNaN(float64(v)) }, "NaN"},
		{true, true, func(v float32) bool { return v == 0 }, "0"},
	} {
		p := &Pool{Poison: test.poison}
		b := p.Get(5, true)
		for j := range b {
			b[j] = 7
		}
		p.Put(b)
		for j, v := range p.Get(5, test.zero) {
			if !test.want(v) {
				t.Errorf("case %d (poison %v, zero %v): element %d = %v, want %s", i, test.poison, test.zero, j, v, test.what)
			}
		}
	}
}

// TestConcurrent has several goroutines take and give back storage at
// once, as an operator's workers do; run with -race it checks the lock,
// and every buffer must be handed to one taker at a time.
func TestConcurrent(t *testing.T) {
	var p Pool
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				b := p.Get(16+i%3, false)
				for j := range b {
					b[j] = float32(w)
				}
				for j, v := range b {
					if v != float32(w) {
						t.Errorf("worker %d: element %d = %v: the buffer was handed out twice", w, j, v)
						return
					}
				}
				p.Put(b)
			}
		}()
	}
	wg.Wait()
}

// TestHeldAcrossRuns checks that storage a caller holds while the next run
// takes its own (the paper step's clean result, read once the adversarial
// pass is done) all comes back: both runs' buffers were out at once.
// Counting each run afresh, the pool kept one of the two and the next
// step allocated the other anew.
func TestHeldAcrossRuns(t *testing.T) {
	var p Pool
	for step := range 4 {
		p.NextRun()
		a := p.Get(8, false)
		p.NextRun()
		b := p.Get(8, false)
		p.Put(a)
		p.Put(b)
		p.NextRun()
		c, d := p.Get(8, false), p.Get(8, false)
		got := map[*float32]bool{&c[0]: true, &d[0]: true}
		if !got[&a[0]] || !got[&b[0]] {
			t.Errorf("step %d: storage held across a run was let go", step)
		}
		p.Put(c)
		p.Put(d)
	}
}

// TestForeignStorage checks that storage the pool did not hand out does
// not pile up: Put keeps no more of a length than were out at once, and
// buffers never given back (an inference's logits) stop counting as out
// after KeepRuns runs, so they do not raise that bound run after run.
func TestForeignStorage(t *testing.T) {
	var p Pool
	for range 100 {
		p.NextRun()
		p.Get(8, false) // never given back
	}
	foreign := map[*float32]bool{}
	for range 100 {
		b := make([]float32, 8)
		foreign[&b[0]] = true
		p.Put(b)
	}
	kept := 0
	for range 100 {
		if b := p.Get(8, false); foreign[&b[0]] {
			kept++
		}
	}
	if kept > KeepRuns+1 {
		t.Errorf("the pool kept %d of 100 foreign buffers, want at most %d", kept, KeepRuns+1)
	}
	if kept == 0 {
		t.Error("the pool kept none of the foreign buffers while buffers of their length were out")
	}
}

// TestMisuseDoesNotStick checks that a caller giving storage back twice,
// or giving back a shorter slice of it, leaves no buffer counted out for
// good once the runs that took them are over: the count of a length
// with nothing out goes back to zero and the length is forgotten.
func TestMisuseDoesNotStick(t *testing.T) {
	var p Pool
	for range 3 {
		p.NextRun()
		x, y, z := p.Get(8, false), p.Get(8, false), p.Get(8, false)
		p.Put(y)
		p.Put(x)
		p.Put(x) // twice
		p.Put(z)
		a, b := p.Get(8, false), p.Get(8, false) // the same storage, twice
		p.Put(a)
		p.Put(b)

		g1, g2 := p.Get(4, false), p.Get(4, false)
		p.Put(g1)
		w := p.Get(8, false)
		p.Put(w[:4]) // a shorter slice of it
		v := p.Get(4, false)
		p.Put(v)
		p.Put(w)
		p.Put(g2)
	}
	for range KeepRuns + 2 {
		p.NextRun()
	}
	for _, n := range []int{4, 8} {
		if u := p.use[n]; u != nil {
			t.Errorf("length %d: %d counted out and peaks %v after every run that took them", n, u.out, u.peak)
		}
	}
}
